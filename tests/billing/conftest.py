import pytest

from tests.factories import AccountFactory, StaffUserFactory


@pytest.fixture
def account():
    return AccountFactory()


@pytest.fixture
def staff():
    return StaffUserFactory()
