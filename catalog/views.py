from django.shortcuts import render

from .selectors import catalog_groups_active


def pricing(request):
    groups = [group for group in catalog_groups_active() if group.active_categories]
    return render(request, "catalog/pricing.html", {"groups": groups})
