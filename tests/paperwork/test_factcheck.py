"""The fact check: a sentence naming an address, number, time, host or service the facts lack is dropped."""

from __future__ import annotations

from infraleash.paperwork.factcheck import FactSet, entities, fact_check

FACTS = FactSet.from_texts(
    "Will replace (1): aws_s3_bucket.data (bucket). Will change in place (1): aws_db_instance.main "
    "(instance_class db.t3.micro -> db.t3.small). 2 to change. First error at 02:15:07 on db-1.internal "
    "(10.0.3.17), checkout-api logged 412 errors.")


def test_entities_of_each_kind() -> None:
    found = entities("At 02:15:07 `checkout-api` on db-1.internal (10.0.3.17) logged 412 errors; "
                     "aws_db_instance.main changes instance_class, a read-only change of 5.0 units.")
    assert {"02:15:07", "checkout-api", "db-1.internal", "10.0.3.17", "412", "aws_db_instance.main",
            "instance_class", "5"} <= found
    assert "read-only" not in found


def test_invented_resource_and_wrong_number_are_dropped_the_rest_kept() -> None:
    prose = ("This change renames the bucket, so aws_s3_bucket.data is replaced. "
             "It also deletes aws_s3_bucket.backups. "
             "The instance class of aws_db_instance.main changes to db.t3.small. "
             "The checkout-api logged 900 errors from 02:15:07.")
    checked = fact_check(prose, FACTS)
    assert checked.kept == ["This change renames the bucket, so aws_s3_bucket.data is replaced.",
                            "The instance class of aws_db_instance.main changes to db.t3.small."]
    assert [(u.sentence, u.missing) for u in checked.unverified] == [
        ("It also deletes aws_s3_bucket.backups.", ["aws_s3_bucket.backups"]),
        ("The checkout-api logged 900 errors from 02:15:07.", ["900"])]
    md = checked.markdown("Summary")
    assert "Written by a model" in md and "2 sentence(s) kept, 2 dropped" in md
    assert "- It also deletes aws_s3_bucket.backups. (not in the facts: aws_s3_bucket.backups)" in md


def test_unknown_host_time_and_service_are_dropped() -> None:
    checked = fact_check("It started at 02:14 on db-2.internal. payments-worker was slow. "
                         "Traffic moved to 10.0.9.9. db-1.internal recovered.", FACTS)
    assert checked.kept == ["db-1.internal recovered."]
    assert [u.missing for u in checked.unverified] == [["02:14", "db-2.internal"], ["payments-worker"],
                                                       ["10.0.9.9"]]
