"""Open311 GeoReport v2: gridmap's categories as services, its cases as service requests.

What integrators (12345 platforms, FixMyStreet-style apps) see: a service
per subcategory (its code, Chinese name, main category as the group), and a
request per case with the GeoReport fields — `open` while the case is in the
loop, `closed` once closed, voided or merged, the Chinese status as
`status_notes`, the department as `agency_responsible`, the deadline as
`expected_datetime`. No personal data leaves here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from zoneinfo import ZoneInfo

from gridmap.cases.categories import CategoryCatalogue
from gridmap.cases.records import local_time
from gridmap.cases.vocabulary import OPEN_STATUSES, Status

OPEN311_STATUSES = ("open", "closed")


def services(catalogue: CategoryCatalogue) -> list[dict[str, Any]]:
    """`services.json`: one realtime service per subcategory."""
    return [
        {
            "service_code": sub.code,
            "service_name": sub.name_zh,
            "description": f"{main.name_zh} / {sub.name_zh} ({sub.name_en}); "
            f"处置时限 {sub.hours:g} {'小时' if sub.clock == 'calendar' else '工作小时'}",
            "metadata": False,
            "type": "realtime",
            "keywords": f"{main.name_en}, {sub.name_en}",
            "group": main.name_zh,
        }
        for main in catalogue.categories
        for sub in main.children
    ]


def open311_status(status: str) -> str:
    """open while the case is in the loop; closed once it is closed, voided or merged."""
    return "open" if Status(status) in OPEN_STATUSES else "closed"


def statuses_of(open311: str) -> list[str]:
    """The case statuses an Open311 `status` filter stands for."""
    wanted = open311 == "open"
    return [s.value for s in Status if (s in OPEN_STATUSES) is wanted]


def service_request(case: Mapping[str, Any], catalogue: CategoryCatalogue, zone: ZoneInfo) -> dict[str, Any]:
    """One case as a GeoReport v2 service request."""
    status = Status(case["status"])
    notes = status.label_zh
    if status is Status.MERGED and case.get("duplicate_of"):
        notes = f"{notes}：并入案件 {case['duplicate_of']}"
    if case.get("grid_code") is None and status in OPEN_STATUSES:
        notes = f"{notes}（待定位）"
    department = case.get("department")
    try:
        service_name = catalogue.subcategory(case["category"]).name_zh
        agency = catalogue.department(department).name_zh if department else None
    except KeyError:
        service_name, agency = case["category"], department
    updated = max(
        (
            case[name]
            for name in (
                "reported_at",
                "accepted_at",
                "dispatched_at",
                "handled_at",
                "closed_at",
                "reviewed_at",
            )
            if case.get(name) is not None
        ),
    )
    return {
        "service_request_id": case["code"],
        "status": open311_status(case["status"]),
        "status_notes": notes,
        "service_name": service_name,
        "service_code": case["category"],
        "description": case.get("description"),
        "agency_responsible": agency,
        "service_notice": None,
        "requested_datetime": local_time(case["reported_at"], zone),
        "updated_datetime": local_time(updated, zone),
        "expected_datetime": local_time(case.get("due_at"), zone),
        "address": case.get("address"),
        "address_id": case.get("building_code"),
        "zipcode": None,
        "lat": case.get("lat"),
        "long": case.get("lon"),
        "media_url": None,
    }
