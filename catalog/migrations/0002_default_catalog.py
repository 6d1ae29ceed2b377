"""Load the default price catalog (SPEC §3): 19 categories in 5 groups, in this order."""

from django.db import migrations

FIXED, MINIMUM, RANGE, HOURLY, UPON_REQUEST = "fixed", "minimum", "range", "hourly", "upon_request"

DEFAULT_CATALOG = [
    ("General assistance", [("General questions", FIXED, 0)]),
    (
        "Technical support consulting & assistance",
        [
            ("Consultation on software features", FIXED, 10),
            ("Consultation on simple modification", FIXED, 25),
            ("Incident solving", FIXED, 40),
            ("Incident solving with protracted debugging", FIXED, 80),
            ("Product warranty issues", FIXED, 0),
            ("Other issues", UPON_REQUEST, None),
        ],
    ),
    (
        "Installation services",
        [
            ("Installation service for points", FIXED, 150),
            ("Installation of 3rd-party web software", MINIMUM, 120),
            ("Installation of SSL certificate", FIXED, 150),
            ("Installation of server applications", MINIMUM, 250),
            ("Installation of X-Cart SEO enhancements", RANGE, (60, 2040)),
            ("Google Analytics setup", HOURLY, 60),
        ],
    ),
    (
        "Transfer services",
        [
            ("Transfer of X-Cart store", FIXED, 150),
            ("Transfer of heavily customized X-Cart store", MINIMUM, 150),
        ],
    ),
    (
        "Optimization services",
        [
            ("X-Cart performance optimization", MINIMUM, 180),
            ("Optimization of server applications performance", MINIMUM, 180),
            ("SEO analysis", MINIMUM, 100),
            ("Website security audit", MINIMUM, 180),
        ],
    ),
]


def price_fields(kind, price):
    if kind == RANGE:
        return {"points": price[0], "max_points": price[1]}
    if kind == HOURLY:
        return {"hourly_rate": price}
    if kind == UPON_REQUEST:
        return {}
    return {"points": price}


def load_catalog(apps, schema_editor):
    CategoryGroup = apps.get_model("catalog", "CategoryGroup")
    IssueCategory = apps.get_model("catalog", "IssueCategory")
    for group_position, (group_name, categories) in enumerate(DEFAULT_CATALOG, start=1):
        group = CategoryGroup.objects.create(name=group_name, position=group_position)
        for position, (name, kind, price) in enumerate(categories, start=1):
            IssueCategory.objects.create(
                group=group, name=name, position=position, pricing_kind=kind,
                **price_fields(kind, price),
            )


def unload_catalog(apps, schema_editor):
    CategoryGroup = apps.get_model("catalog", "CategoryGroup")
    IssueCategory = apps.get_model("catalog", "IssueCategory")
    names = [name for name, _ in DEFAULT_CATALOG]
    IssueCategory.objects.filter(group__name__in=names).delete()
    CategoryGroup.objects.filter(name__in=names).delete()


class Migration(migrations.Migration):
    dependencies = [("catalog", "0001_initial")]
    operations = [migrations.RunPython(load_catalog, unload_catalog)]
