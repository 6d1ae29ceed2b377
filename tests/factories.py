import factory
from django.utils import timezone

from accounts.models import Account, Membership, MembershipRole
from catalog.models import CategoryGroup, IssueCategory, PricingKind
from helpdesk.models import User
from points.models import PointPackage
from tickets.models import Ticket, TicketStatus

PASSWORD = "correct horse battery staple"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.com")
    first_name = "Pat"
    last_name = factory.Sequence(lambda n: f"Customer{n}")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def save_password(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class StaffUserFactory(UserFactory):
    email = factory.Sequence(lambda n: f"agent{n}@helpdesk.example.com")
    is_staff = True


class AccountFactory(factory.django.DjangoModelFactory):
    """An account with its owner (a customer user)."""

    class Meta:
        model = Account
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Customer company {n}")

    @factory.post_generation
    def owner(obj, create, extracted, **kwargs):
        if create:
            user = extracted or UserFactory()
            Membership.objects.create(account=obj, user=user, role=MembershipRole.OWNER)


def account_owner(account: Account) -> User:
    return account.memberships.get(role=MembershipRole.OWNER).user


class CategoryGroupFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CategoryGroup

    name = factory.Sequence(lambda n: f"Group {n}")
    position = factory.Sequence(lambda n: 100 + n)


class IssueCategoryFactory(factory.django.DjangoModelFactory):
    """A fixed-price category by default; traits for the other pricing kinds."""

    class Meta:
        model = IssueCategory

    group = factory.SubFactory(CategoryGroupFactory)
    name = factory.Sequence(lambda n: f"Category {n}")
    position = factory.Sequence(lambda n: n)
    pricing_kind = PricingKind.FIXED
    points = 40

    class Params:
        minimum = factory.Trait(pricing_kind=PricingKind.MINIMUM, points=120)
        range = factory.Trait(pricing_kind=PricingKind.RANGE, points=60, max_points=2040)
        hourly = factory.Trait(pricing_kind=PricingKind.HOURLY, points=None, hourly_rate=60)
        upon_request = factory.Trait(pricing_kind=PricingKind.UPON_REQUEST, points=None)


class TicketFactory(factory.django.DjangoModelFactory):
    """A ticket row only: no points are captured (use the services for that)."""

    class Meta:
        model = Ticket

    account = factory.SubFactory(AccountFactory)
    filed_by = factory.LazyAttribute(lambda t: account_owner(t.account))
    category = factory.SubFactory(IssueCategoryFactory)
    subject = factory.Sequence(lambda n: f"Problem number {n}")
    status = TicketStatus.OPEN
    created_at = factory.LazyFunction(timezone.now)
    last_activity_at = factory.LazyAttribute(lambda t: t.created_at)


class PointPackageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PointPackage

    name = factory.Sequence(lambda n: f"{(n + 1) * 100} points")
    points = factory.Sequence(lambda n: (n + 1) * 100)
    price = factory.LazyAttribute(lambda p: p.points)
    currency = "USD"
