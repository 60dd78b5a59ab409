"""Call Dash callbacks through the app's real HTTP endpoint, as the browser does."""
from __future__ import annotations

import json


def _split_outputs(key: str) -> list[dict]:
    key = key.split("@")[0]
    parts = key.strip(".").split("...") if key.startswith("..") else [key]
    outputs = []
    for part in parts:
        component, _, prop = part.rpartition(".")
        outputs.append({"id": component, "property": prop})
    return outputs


def find_key(app, first_output: str, trigger: str | None = None) -> str:
    """The key of the callback whose first output is `first_output` ("map.figure") and, when
    several write it, whose inputs include `trigger` ("map.clickData")."""
    for key, spec in app.callback_map.items():
        if _split_outputs(key)[0] != dict(zip(("id", "property"), first_output.rsplit(".", 1))):
            continue
        inputs = {f"{i['id']}.{i['property']}" for i in spec["inputs"]}
        if trigger is None or trigger in inputs:
            return key
    raise KeyError(first_output)


def call(client, app, first_output: str, values: dict, changed: list[str] | None = None):
    """POST one callback; `values` maps "id.prop" to the value of every input and state."""
    key = find_key(app, first_output, (changed or [None])[0])
    spec = app.callback_map[key]

    def items(kind):
        return [{"id": i["id"], "property": i["property"], "value": values.get(f"{i['id']}.{i['property']}")}
                for i in spec[kind]]

    outputs = _split_outputs(key)
    payload = {
        "output": key,
        "outputs": outputs if key.startswith("..") else outputs[0],
        "inputs": items("inputs"),
        "state": items("state"),
        "changedPropIds": changed or [f"{spec['inputs'][0]['id']}.{spec['inputs'][0]['property']}"],
    }
    response = client.post("/_dash-update-component", data=json.dumps(payload), content_type="application/json")
    return response
