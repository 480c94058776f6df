"""Schemathesis hooks for CI's run against the binary.

The document states every rule of a request that JSON Schema can state, so
schema-valid data must not be refused (the positive_data_acceptance check).
What it cannot state is applied here to generated data, as a client reading
the documentation would:

- references: ids must name rows of the user (a global food, their recipe,
  themselves), which CI creates before the run and passes in MT_FOODS,
  MT_RECIPE and MT_USER;
- state the request cannot know: a day holds at most 200 entries, so each
  generated batch logs on a day of its own (a counter of days from
  1950-01-01); an `If-Match` names the food's current ETag, which generated
  data cannot, so it is left out (its 412 has tests of its own); an
  `Idempotency-Key` names one request, and generated cases reuse keys for
  other bodies (a 422 by the contract, with tests of its own), so each case
  gets a key of its own;
- a barcode's check digit (the schema states its shape only): a generated
  code gets the GS1 check digit of its other digits;
- rules across fields or parameters: a plan item's day is less than the
  plan's days; a plan is scheduled to end by 2200-12-31; a summary's `from` is not after `to` and spans at most 92
  days; an export's `from` is not after `to` and spans at most 3660 days; a week starts by 2200-12-25; an
  operator's tags are of the user named beside them;
- amounts that name data: the seed catalogue has no portions, so an entry
  logged by portion is logged by as many servings instead, and a PATCH
  naming a portion or a `quantity` (which changes only an entry logged by
  portion, and the user's entries are not) changes the servings instead;
  so does a PATCH naming grams (which only a food with grams per serving
  has, and a generated id may name an entry of the user's recipe), as many
  servings up to 100. The documented examples (which no hook changes) name
  no portion, and log grams of a seed food only.
- quick adds: a PATCH names `quick` only for a quick entry, and an amount
  only for any other, which generated ids cannot know; so generated
  batches log a food instead of quick macros, a generated PATCH moves the
  entry to another meal instead of naming `quick`, and a PATCH names one
  of the 100 entries CI made for it (ids 101..=200, food entries: the
  documented batch example's quick add is not one of them);
- copies: a copy needs entries to copy and room on the day copied to, so
  it copies one meal (25 entries) of MT_COPY_DAY (100 entries, all four
  meals, made by CI) to a day no batch logged on (room for eight replays
  of the same case); `to_meal` only with `meal` (the document's
  `dependentRequired`, which the generator may not read).

Everything else generated goes to the server as it is.
"""

import datetime
import itertools
import os
import uuid

import schemathesis

FOODS = int(os.environ.get("MT_FOODS", "30"))
RECIPE = int(os.environ.get("MT_RECIPE", "1"))
USER = int(os.environ.get("MT_USER", "1"))
COPY_DAY = os.environ.get("MT_COPY_DAY", "2026-11-24")


def _operation_id(operation):
    if operation is None:
        return None
    return operation.definition.raw.get("operationId")


def _items(value):
    """A list's items; nothing for anything else (negative cases send any type)."""
    return value if isinstance(value, list) else []


def _whole(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool) and float(value).is_integer()


def _food(food_id):
    """A global food of the seed catalogue (ids 1..=FOODS)."""
    if isinstance(food_id, (int, float)):
        return 1 + int(abs(food_id)) % FOODS
    return food_id


_BATCHES = itertools.count()


def _batch_day():
    """A day no earlier batch logged on (1950-01-01 onwards, within 2200)."""
    offset = next(_BATCHES) % 90000
    return (datetime.date(1950, 1, 1) + datetime.timedelta(days=offset)).isoformat()


def _body(operation, body):
    if not isinstance(body, dict):
        return body
    if operation == "createLogs":
        day = _batch_day()
        for entry in _items(body.get("entries")):
            if isinstance(entry, dict):
                if _day(entry.get("date")):
                    entry["date"] = day
                if "quick" in entry:
                    entry.pop("quick")
                    entry["food_id"], entry["servings"] = 1, 1
                if "food_id" in entry:
                    entry["food_id"] = _food(entry["food_id"])
                if "recipe_id" in entry and entry["recipe_id"] is not None:
                    entry["recipe_id"] = RECIPE
                _no_portion(entry)
    elif operation == "updateLog":
        _no_portion(body)
        _no_grams(body)
        if "quick" in body:
            body.pop("quick")
            body["meal"] = "snack"
    elif operation == "copyDay":
        if _day(body.get("to")):
            body["to"] = _batch_day()
        if body.get("meal") is None:
            body.pop("to_meal", None)
            body["meal"] = "breakfast"
    elif operation == "createRecipe":
        for ingredient in _items(body.get("ingredients")):
            if isinstance(ingredient, dict) and "food_id" in ingredient:
                ingredient["food_id"] = _food(ingredient["food_id"])
    elif operation == "createMealPlan":
        days = body.get("days")
        for item in _items(body.get("items")):
            if isinstance(item, dict):
                if "recipe_id" in item:
                    item["recipe_id"] = RECIPE
                day = item.get("day")
                # Integral floats (3.0) are integers too.
                if _whole(days) and days > 0 and _whole(day):
                    item["day"] = type(day)(int(day) % int(days))
    elif operation == "scheduleMealPlan":
        # A plan (up to 366 days) must end by 2200-12-31.
        start = _day(body.get("start_date"))
        if start and start > datetime.date(2199, 12, 30):
            body["start_date"] = "2199-12-30"
    elif operation in ("invalidateCache", "refreshCache"):
        body["user_id"] = USER
        if isinstance(body.get("tags"), list):
            families = ["", "_food", "_logs", "_completion", "_streaks", "_scheduled", "_scheduled_2026-11-24"]
            body["tags"] = [f"user_{USER}{families[i % len(families)]}" for i in range(len(body["tags"]))]
    return body


def _no_portion(entry):
    """An amount by portion (or a quantity alone) as that many servings."""
    if "quantity" in entry:
        quantity = entry.pop("quantity")
        entry.pop("portion_id", None)
        entry["servings"] = quantity


def _no_grams(entry):
    """An amount by grams as that many servings, within their 100."""
    grams = entry.pop("grams", None)
    if isinstance(grams, (int, float)) and not isinstance(grams, bool):
        entry["servings"] = min(grams, 100)
    elif grams is not None:
        entry["grams"] = grams


def _day(text):
    try:
        return datetime.date.fromisoformat(text)
    except (TypeError, ValueError):
        return None


_SPANS = {"summary": 91, "exportEntries": 3659}


def _query(operation, query):
    if operation not in _SPANS or not isinstance(query, dict):
        return query
    start, end = _day(query.get("from")), _day(query.get("to"))
    if start and end:
        start, end = min(start, end), max(start, end)
        end = min(end, start + datetime.timedelta(days=_SPANS[operation]))
        query["from"], query["to"] = start.isoformat(), end.isoformat()
    return query


def _check_digit(digits):
    """GS1's mod-10 check digit of `digits`: from the right, weights 3, 1, 3, ..."""
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(digits)))
    return str((10 - total % 10) % 10)


def _path_parameters(operation, path_parameters):
    if not isinstance(path_parameters, dict):
        return path_parameters
    code = path_parameters.get("code")
    if operation == "foodByBarcode" and isinstance(code, str) and code.isdigit() and code.isascii():
        if len(code) in (8, 12, 13, 14):
            path_parameters["code"] = code[:-1] + _check_digit(code[:-1])
        return path_parameters
    if operation == "copyDay" and _day(path_parameters.get("date")):
        path_parameters["date"] = COPY_DAY
        return path_parameters
    entry = path_parameters.get("id")
    if operation == "updateLog" and isinstance(entry, int) and not isinstance(entry, bool):
        path_parameters["id"] = 101 + abs(entry) % 100
        return path_parameters
    if operation != "week":
        return path_parameters
    start = _day(path_parameters.get("start"))
    if start and start > datetime.date(2200, 12, 25):
        path_parameters["start"] = "2200-12-25"
    return path_parameters


@schemathesis.hook
def map_case(context, case):
    # On every case of every phase (examples and coverage included).
    operation = _operation_id(case.operation)
    if isinstance(case.body, dict):
        case.body = _body(operation, case.body)
    if isinstance(case.query, dict):
        case.query = _query(operation, case.query)
    if isinstance(case.path_parameters, dict):
        case.path_parameters = _path_parameters(operation, case.path_parameters)
    # Any mapping (phases differ: a dict, or a case-insensitive one).
    if operation == "editFood" and case.headers:
        case.headers = {name: value for name, value in case.headers.items() if name.lower() != "if-match"}
    if case.headers and any(name.lower() == "idempotency-key" for name in case.headers):
        key = f"st-{uuid.uuid4().hex}"
        case.headers = {name: (key if name.lower() == "idempotency-key" else value) for name, value in case.headers.items()}
    return case


@schemathesis.hook
def before_call(context, case, **kwargs):
    # Per request, the examples phase and replays of one case included
    # (map_case runs once per case, and a case sent again would copy onto
    # a day it already filled): a copy from CI's day onto a day of its own,
    # a PATCH of one of CI's entries.
    operation = _operation_id(case.operation)
    if operation not in ("copyDay", "updateLog"):
        return
    if isinstance(case.path_parameters, dict):
        case.path_parameters = _path_parameters(operation, case.path_parameters)
    if isinstance(case.body, dict):
        case.body = _body(operation, case.body)
