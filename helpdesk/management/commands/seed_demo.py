from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from accounts.models import Account
from accounts.services import account_sign_up
from catalog.models import IssueCategory
from helpdesk.models import User
from notifications.outbox import notifications_suppressed
from points import services as ledger
from points.models import PointPackage
from tickets import services as tickets

STAFF_EMAIL = "staff@example.com"
STAFF_PASSWORD = "demo-staff-password"
CUSTOMER_PASSWORD = "demo-customer-password"
CUSTOMERS = [
    ("customer@example.com", "Alex", "Demo", "Demo Shop Ltd"),
    ("webmaster@example.com", "Sam", "Webmaster", "Second Demo Store"),
]
PACKAGES = [
    ("Starter — 100 points", 100, Decimal("100.00")),
    ("Standard — 250 points", 250, Decimal("240.00")),
    ("Business — 500 points", 500, Decimal("450.00")),
    ("Agency — 1000 points", 1000, Decimal("850.00")),
]


class Command(BaseCommand):
    help = (
        "Create demo data: a staff user, customer accounts with paid purchases (some expired, "
        "some expiring soon), open and resolved tickets, point packages. Safe to run twice."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--allow-production",
            action="store_true",
            help="Run even with DEBUG off (the demo users have well-known passwords).",
        )

    def handle(self, *args, allow_production, **options):
        if not settings.DEBUG and not allow_production:
            raise CommandError(
                "seed_demo creates users with well-known passwords; it runs only with DEBUG on "
                "(or --allow-production)."
            )
        # The demo's history is made up: its tickets must not e-mail anyone.
        with notifications_suppressed(), transaction.atomic():
            staff = self._staff()
            for package_name, points, price in PACKAGES:
                PointPackage.objects.get_or_create(
                    name=package_name, defaults={"points": points, "price": price}
                )
            for index, (email, first, last, company) in enumerate(CUSTOMERS):
                self._customer(index, email, first, last, company, staff)
        self.stdout.write(
            "Demo users (log in at /accounts/login/):\n"
            f"  staff (admin at /admin/): {STAFF_EMAIL} / {STAFF_PASSWORD}\n"
            + "".join(f"  customer: {email} / {CUSTOMER_PASSWORD}\n" for email, *_ in CUSTOMERS)
        )

    def _staff(self) -> User:
        staff = User.objects.filter(email=STAFF_EMAIL).first()
        if staff is None:
            staff = User.objects.create_superuser(
                email=STAFF_EMAIL, password=STAFF_PASSWORD, first_name="Supp", last_name="Ort"
            )
        return staff

    def _customer(self, index, email, first, last, company, staff) -> None:
        if User.objects.filter(email=email).exists():
            return
        user = account_sign_up(
            email=email,
            password=CUSTOMER_PASSWORD,
            first_name=first,
            last_name=last,
            account_name=company,
        )
        account = Account.objects.get(memberships__user=user)
        now = timezone.now()
        # An old purchase already past its expiry, one expiring within 30 days, a recent one.
        for days_ago, points in [(800, 300), (715, 150), (20, 500)]:
            ledger.points_purchase(
                account=account,
                points=points,
                payment_reference=f"demo-seed-{index}-{days_ago}",
                actor=user,
                at=now - timedelta(days=days_ago),
            )
        categories = {c.name: c for c in IssueCategory.objects.active()}
        filed = [
            ("Checkout page shows a blank screen", "Incident solving", 740, True),
            ("How do I configure shipping zones?", "Consultation on software features", 400, True),
            (
                "Install an SSL certificate on the new domain",
                "Installation of SSL certificate",
                6,
                False,
            ),
            (
                "Product images lost after upgrade",
                "Incident solving with protracted debugging",
                2,
                False,
            ),
        ]
        for subject, category_name, days_ago, resolve in filed:
            category = categories.get(category_name)
            if category is None:
                continue
            at = now - timedelta(days=days_ago)
            ticket = tickets.ticket_file(
                account=account,
                filed_by=user,
                category=category,
                subject=subject,
                description=f"{subject}. Please help; details on request.",
                at=at,
            )
            tickets.ticket_reply(
                ticket=ticket,
                author=staff,
                body="Thank you, we are looking into it.",
                at=at + timedelta(hours=3),
            )
            if resolve:
                tickets.ticket_resolve(
                    ticket=ticket, actor=staff, reason="Solved", at=at + timedelta(days=1)
                )
