"""SnapshotStore, from its Args alone: names derived from the component's, with aliases to the
names its children had before."""

import base64
import json

import pytest

from lakeflow.components.disaster_recovery import SnapshotSchema, SnapshotStore, SnapshotStoreArgs
from tests.components import plan_of, registrations
from tests.conftest import by_type, resource

pytestmark = pytest.mark.plan

PLAIN = {
    "schemas": [{"catalog": "prod_dr", "schema": "sales"}, {"catalog": "prod_dr", "schema": "sales"}],
    "backup_catalog": "prod_dr",
    "backup_schema": "prod_lakeflow_backup",
    "backup_document": {"config": {"environment": "prod"}, "pipelines": [{"name": "sales", "rpo": 30.0}]},
    "backup_file_name": "lakeflow.prod.json",
    "writer": "sp:deployer",
    "readers": ["group:platform-ops"],
    "protect": True,
}
OLD_NAMES = {
    "dr-schema-prod_dr-sales": "schema-prod_dr-sales",
    "dr-schema-prod_dr-sales-grants": "schema-prod_dr-sales-grants",
    "dr-backup-schema": "backup-schema",
    "dr-backup-volume": "backup-volume",
    "dr-backup-schema-grants": "backup-schema-grants",
    "dr-config-backup": "config-backup",
}


def typed_args() -> SnapshotStoreArgs:
    return SnapshotStoreArgs(
        schemas=[SnapshotSchema("prod_dr", "sales")],
        backup_catalog="prod_dr",
        backup_schema="prod_lakeflow_backup",
        backup_document=PLAIN["backup_document"],  # type: ignore[arg-type]
        backup_file_name="lakeflow.prod.json",
        writer="sp:deployer",
        readers=["group:platform-ops"],
        protect=True,
    )


def test_a_plain_dict_registers_what_the_args_do():
    plain = plan_of(lambda: SnapshotStore("dr", PLAIN))  # type: ignore[arg-type]
    typed = plan_of(lambda: SnapshotStore("dr", typed_args()))
    assert registrations(plain, "aliases", "protect") == registrations(typed, "aliases", "protect")


def test_child_names_derive_from_the_component_name_with_aliases_to_the_old_ones():
    plan = plan_of(lambda: SnapshotStore("dr", typed_args()))
    component = resource(plan, "SnapshotStore", "dr")
    kids = [r for r in plan.resources if r is not component]
    assert {r["name"]: r["aliases"][0]["name"] for r in kids} == OLD_NAMES
    for r in kids:
        # The old name under the same parent (the alias names no other parent).
        assert r["aliases"] == [
            {"name": OLD_NAMES[r["name"]], "type": "", "project": "", "stack": "", "parentUrn": "", "noParent": False}
        ]
        assert r["parent"] == component["urn"]


def test_data_is_protected_as_asked_and_always_retained_and_the_backup_holds_the_document():
    plan = plan_of(lambda: SnapshotStore("dr", typed_args()))
    for r in [*by_type(plan, "Schema"), *by_type(plan, "Volume")]:
        assert (r["protect"], r["retainOnDelete"]) == (True, True), r["name"]
    backup = resource(plan, "File", "dr-config-backup")
    assert backup["inputs"]["path"] == "/Volumes/prod_dr/prod_lakeflow_backup/config/lakeflow.prod.json"
    assert json.loads(base64.b64decode(backup["inputs"]["contentBase64"])) == PLAIN["backup_document"]
    assert backup["dependencies"] == [resource(plan, "Volume", "dr-backup-volume")["urn"]]
    grants = resource(plan, "Grants", "dr-schema-prod_dr-sales-grants")["inputs"]["grants"]
    assert {g["principal"]: g["privileges"] for g in grants} == {
        "deployer": ["CREATE_TABLE", "MODIFY", "SELECT", "USE_SCHEMA"],
        "platform-ops": ["CREATE_TABLE", "SELECT", "USE_SCHEMA"],
    }


@pytest.mark.parametrize(
    ("overrides", "error", "words"),
    [
        ({"schemas": [{"catalog": "c"}]}, TypeError, ["missing required key 'schemas[0].schema'"]),
        ({"backup_volume": "x"}, TypeError, ["unknown key 'backup_volume'", "backup_file_name"]),
        ({"schemas": [{"catalog": "c", "schema": "s", "table": "t"}]}, TypeError, ["'schemas[0].table'"]),
    ],
)
def test_a_wrong_key_fails_naming_it(overrides, error, words):
    with pytest.raises(error) as raised:
        SnapshotStore("dr", {**PLAIN, **overrides})  # type: ignore[arg-type]
    assert "SnapshotStore 'dr'" in str(raised.value)
    assert all(w in str(raised.value) for w in words), str(raised.value)
