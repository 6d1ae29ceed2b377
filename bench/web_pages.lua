-- wrk script for bench/web_pages.py: every request is a logged-in user viewing a page they may see.
--
--   wrk -t2 -c8 -d15s --latency -s bench/web_pages.lua http://127.0.0.1:PORT -- PAIRS_FILE [keep-alive]
--
-- PAIRS_FILE has one "<session key>\t<path>" per line; each thread cycles through all of them,
-- starting at a different place. Every request says "Connection: close" unless "keep-alive" is
-- given: a kept-alive connection stays with the gunicorn worker that accepted it, so 8 of them
-- can all land on one worker of a threaded server (many real clients spread out instead). wrk itself counts only 4xx/5xx as errors, so this script counts
-- every status other than 200 (a redirect to the login page is a failure here) and prints one
-- "RESULT {json}" line at the end for the harness to read.

local threads = {}
local thread_count = 0

function setup(thread)
  thread:set("thread_index", thread_count)
  thread_count = thread_count + 1
  table.insert(threads, thread)
end

function init(args)
  prepared = {}
  for line in io.lines(args[1]) do
    local session, path = line:match("^(%S+)\t(%S+)$")
    if session then
      local headers = { ["Cookie"] = "sessionid=" .. session }
      if args[2] ~= "keep-alive" then
        headers["Connection"] = "close"
      end
      prepared[#prepared + 1] = wrk.format("GET", path, headers)
    end
  end
  if #prepared == 0 then
    error("no (session, path) pairs in " .. args[1])
  end
  position = (thread_index * 7919) % #prepared
  not_ok = 0
  first_bad_status = 0
end

function request()
  position = position % #prepared + 1
  return prepared[position]
end

function response(status, headers, body)
  if status ~= 200 then
    not_ok = not_ok + 1
    if first_bad_status == 0 then
      first_bad_status = status
    end
  end
end

function done(summary, latency, requests)
  local bad, bad_status = 0, 0
  for _, thread in ipairs(threads) do
    bad = bad + thread:get("not_ok")
    if bad_status == 0 then
      bad_status = thread:get("first_bad_status")
    end
  end
  local errors = summary.errors
  io.write(string.format(
    'RESULT {"requests": %d, "duration_us": %d, "p50_us": %d, "p90_us": %d, "p99_us": %d, '
      .. '"max_us": %d, "mean_us": %.1f, "non_200": %d, "first_bad_status": %d, '
      .. '"connect_errors": %d, "read_errors": %d, "write_errors": %d, "timeouts": %d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency.max, latency.mean, bad, bad_status,
    errors.connect, errors.read, errors.write, errors.timeout))
end
