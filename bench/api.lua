-- wrk script for bench/api.py: API requests with a personal token each.
--
--   wrk -t2 -c8 -d15s --latency -s bench/api.lua http://127.0.0.1:PORT -- REQUESTS_FILE
--
-- REQUESTS_FILE has one "<token>\t<method>\t<path>\t<JSON body or ->" per line; each thread
-- cycles through them from a different place. Every request says "Connection: close" (as
-- bench/web_pages.lua does). Statuses other than 200 and 201 are counted; one "RESULT {json}"
-- line is printed at the end.

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
    local token, method, path, body = line:match("^(%S+)\t(%S+)\t(%S+)\t(.*)$")
    if token then
      local headers = { ["Authorization"] = "Bearer " .. token, ["Connection"] = "close" }
      if body == "-" then
        body = nil
      else
        headers["Content-Type"] = "application/json"
      end
      prepared[#prepared + 1] = wrk.format(method, path, headers, body)
    end
  end
  if #prepared == 0 then
    error("no requests in " .. args[1])
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
  if status ~= 200 and status ~= 201 then
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
  io.write(string.format(
    'RESULT {"requests": %d, "duration_us": %d, "non_200": %d, "first_bad_status": %d, ' ..
    '"p50_us": %d, "p90_us": %d, "p99_us": %d, "socket_errors": %d}\n',
    summary.requests, summary.duration, bad, bad_status,
    latency:percentile(50), latency:percentile(90), latency:percentile(99),
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
