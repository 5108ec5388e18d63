"""Heat's resource types and template versions, over cool's registry and HOT tables."""

from __future__ import annotations

from tests.api.heat.helpers import fault
from tests.api.helpers import Caller

TYPES = "/v1/p-one/resource_types"


def test_list_names_filters_and_descriptions(alice: Caller) -> None:
    names = alice.get(TYPES).json["resource_types"]
    assert "OS::Nova::Server" in names
    assert "OS::Heat::Value" in names
    assert names == sorted(names)
    heat = alice.get(TYPES, params={"name": "OS::Heat::.*"}).json["resource_types"]
    assert heat
    assert all(n.startswith("OS::Heat::") for n in heat)
    described = alice.get(TYPES, params={"name": "OS::Heat::Value", "with_description": "true"})
    [entry] = described.json["resource_types"]
    assert entry["resource_type"] == "OS::Heat::Value"
    assert entry["description"]
    supported = alice.get(TYPES, params={"support_status": "SUPPORTED"}).json["resource_types"]
    assert supported == names
    assert alice.get(TYPES, params={"support_status": "DEPRECATED"}).json["resource_types"] == []
    assert alice.get(TYPES, params={"version": "5.0.0"}).json["resource_types"] == []
    bad = alice.get(TYPES, params={"name": "("})
    assert bad.status_code == 400
    assert fault(bad)["type"] == "HTTPBadRequest"


def test_show_is_heats_schema(alice: Caller) -> None:
    result = alice.get(TYPES + "/OS::Heat::TestResource")
    assert result.status_code == 200, result.text
    body = result.json
    assert set(body) == {"resource_type", "properties", "attributes", "support_status"}
    value = body["properties"]["value"]
    assert value["type"] in {"string", "any"}
    assert set(value) >= {"type", "description", "required", "update_allowed", "immutable"}
    assert body["attributes"]["show"]["type"] == "map"
    assert body["support_status"]["status"] == "SUPPORTED"
    described = alice.get(TYPES + "/OS::Heat::TestResource", params={"with_description": "1"})
    assert described.json["description"]
    missing = alice.get(TYPES + "/OS::Nope::Thing")
    assert missing.status_code == 404
    assert fault(missing)["type"] == "EntityNotFound"


def test_template_of_a_type_hot_and_cfn(alice: Caller) -> None:
    hot = alice.get(TYPES + "/OS::Heat::Value/template", params={"template_type": "hot"}).json
    assert hot["heat_template_version"] == "2016-10-14"
    assert hot["description"] == "Initial template of Value"
    assert hot["resources"]["Value"]["type"] == "OS::Heat::Value"
    assert hot["resources"]["Value"]["properties"]["value"] == {"get_param": "value"}
    assert hot["outputs"]["OS::stack_id"] == {"value": {"get_resource": "Value"}}
    assert hot["outputs"]["value"]["value"] == {"get_attr": ["Value", "value"]}
    assert set(hot["parameters"]) == set(hot["resources"]["Value"]["properties"])
    cfn = alice.get(TYPES + "/OS::Heat::Value/template").json  # Heat's default: cfn
    assert cfn["HeatTemplateFormatVersion"] == "2012-12-12"
    assert cfn["Resources"]["Value"]["Properties"]["value"] == {"Ref": "value"}
    assert cfn["Outputs"]["OS::stack_id"] == {"Value": {"Ref": "Value"}}
    bad = alice.get(TYPES + "/OS::Heat::Value/template", params={"template_type": "xml"})
    assert bad.status_code == 400
    assert alice.get(TYPES + "/OS::Nope::Thing/template").status_code == 404


def test_template_versions_and_functions(alice: Caller) -> None:
    listed = alice.get("/v1/p-one/template_versions").json["template_versions"]
    by_version = {v["version"]: v for v in listed}
    assert by_version["heat_template_version.2013-05-23"] == {
        "version": "heat_template_version.2013-05-23",
        "type": "hot",
        "aliases": [],
    }
    assert by_version["heat_template_version.2016-10-14"]["aliases"] == [
        "heat_template_version.newton"
    ]
    url = "/v1/p-one/template_versions/heat_template_version.2013-05-23/functions"
    old = {f["functions"] for f in alice.get(url).json["template_functions"]}
    assert {"get_param", "Fn::Select", "str_replace"} <= old
    assert "yaql" not in old
    assert "if" not in old
    newton = "/v1/p-one/template_versions/heat_template_version.newton/functions"
    functions = alice.get(newton).json["template_functions"]
    names = {f["functions"] for f in functions}
    assert {"yaql", "if", "map_replace"} <= names
    assert "Fn::Select" not in names  # removed in 2015-10-15
    assert all(f["description"] for f in functions)
    conditions = alice.get(newton, params={"with_condition_func": "true"}).json
    assert {"equals", "not", "and", "or"} <= {
        f["functions"] for f in conditions["template_functions"]
    }
    missing = alice.get("/v1/p-one/template_versions/heat_template_version.1999-01-01/functions")
    assert missing.status_code == 404
    assert fault(missing)["type"] == "EntityNotFound"


def test_another_projects_url_is_forbidden(bob: Caller) -> None:
    assert bob.get(TYPES).status_code == 403
    assert bob.get("/v1/p-one/template_versions").status_code == 403


def test_name_filter_cannot_freeze_the_process(rita: Caller) -> None:
    """Review of issue 18: ``OS::(.|.)*!`` kept a process's every thread (Python's re
    holds the GIL) for 110 s, for any reader. Regular expressions past the forms
    people write for type names are refused; the rest match as a linear-time glob."""
    for pattern in ("OS::(.|.)*!", "(a+)+$", "a|b", "[A-Z]+"):
        refused = rita.get(TYPES, params={"name": pattern})
        assert refused.status_code == 400, pattern
        assert "a regular expression of that form" in fault(refused)["message"]
    many = rita.get(TYPES, params={"name": ".*" * 60 + "X$"})
    assert many.status_code == 200
    assert many.json["resource_types"] == []
    exact = rita.get(TYPES, params={"name": "OS::Heat::Value$"}).json["resource_types"]
    assert exact == ["OS::Heat::Value"]
    assert rita.get(TYPES, params={"name": r"OS::Heat::.+Group"}).json["resource_types"] == [
        "OS::Heat::AutoScalingGroup",
        "OS::Heat::InstanceGroup",
        "OS::Heat::ResourceGroup",
    ]
