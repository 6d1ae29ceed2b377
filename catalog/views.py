from django.shortcuts import render

from points.selectors import package_offers

from .pricing import price_legend
from .selectors import catalog_groups_active


def pricing(request):
    """The public price list: what a point costs in money, and what each category costs."""
    groups = [group for group in catalog_groups_active() if group.active_categories]
    return render(
        request,
        "catalog/pricing.html",
        {"groups": groups, "offers": package_offers(), "legend": price_legend()},
    )
