"""Helpers of the API tests."""

PROBLEM = "application/problem+json"


def assert_problem(response, status: int, code: str) -> dict:
    """The response is a problem+json of `status` carrying `code`; its body."""
    assert response.status_code == status, response.content[:500]
    assert response["Content-Type"] == PROBLEM
    body = response.json()
    assert body["status"] == status
    assert body["code"] == code
    assert body["type"].endswith(code)
    return body
