"""One person's HTTP session for deploy/check_stack.py: cookies, the CSRF token, form posts and
file uploads against the published port. Standard library only."""

import http.cookiejar
import secrets
import urllib.error
import urllib.parse
import urllib.request


class Browser:
    """One person's HTTP session against the published port (cookies, CSRF token)."""

    def __init__(self, base_url: str):
        self.base_url = base_url
        self.cookies = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.cookies))

    def request(self, path: str, data: dict | None = None) -> tuple[int, str, str]:
        body = None
        if data is not None:
            token = next((c.value for c in self.cookies if c.name == "csrftoken"), "")
            body = urllib.parse.urlencode({"csrfmiddlewaretoken": token, **data}).encode()
        request = urllib.request.Request(self.base_url + path, data=body)
        request.add_header("Host", "localhost")
        try:
            with self.opener.open(request, timeout=30) as response:
                return response.status, response.url, response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.url, error.read().decode(errors="replace")
        except OSError as error:
            return 0, path, str(error)

    def upload(self, path: str, data: dict, files: dict[str, tuple[str, bytes]]):
        """A multipart form post: data fields, and files as {field: (file name, content)}."""
        self.request(path)
        token = next((c.value for c in self.cookies if c.name == "csrftoken"), "")
        boundary = "compose-check-" + secrets.token_hex(8)
        parts = []
        for name, value in {"csrfmiddlewaretoken": token, **data}.items():
            parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n')
            parts.append(f"{value}\r\n")
        body = "".join(parts).encode()
        for name, (filename, content) in files.items():
            body += (
                f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; '
                f'filename="{filename}"\r\nContent-Type: text/plain\r\n\r\n'
            ).encode()
            body += content + b"\r\n"
        body += f"--{boundary}--\r\n".encode()
        request = urllib.request.Request(self.base_url + path, data=body)
        request.add_header("Host", "localhost")
        request.add_header("Content-Type", f"multipart/form-data; boundary={boundary}")
        try:
            with self.opener.open(request, timeout=30) as response:
                return response.status, response.url, response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.url, error.read().decode(errors="replace")

    def get(self, path: str) -> tuple[int, str, str]:
        return self.request(path)

    def post(self, path: str, data: dict) -> tuple[int, str, str]:
        self.request(path)  # the form page sets the CSRF cookie
        return self.request(path, data)
