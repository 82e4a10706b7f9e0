"""The plain-language summary of a plan: what will be destroyed, replaced, changed in place, created."""

from __future__ import annotations

from pydantic import BaseModel, Field

from infraleash.terraform.plan import Action, Plan, ResourceChange

LISTED = 20  # resources named per group in the text summary


class SummaryItem(BaseModel):
    address: str
    detail: str = ""


class PlanSummary(BaseModel):
    destroy: list[SummaryItem] = Field(default_factory=list)
    replace: list[SummaryItem] = Field(default_factory=list)
    update: list[SummaryItem] = Field(default_factory=list)
    create: list[SummaryItem] = Field(default_factory=list)
    move: list[SummaryItem] = Field(default_factory=list)
    import_: list[SummaryItem] = Field(default_factory=list, alias="import")
    forget: list[SummaryItem] = Field(default_factory=list)
    outputs: list[SummaryItem] = Field(default_factory=list)
    drift: list[SummaryItem] = Field(default_factory=list)

    model_config = {"populate_by_name": True}

    def groups(self) -> list[tuple[str, list[SummaryItem]]]:
        return [("destroy", self.destroy), ("replace", self.replace), ("change in place", self.update),
                ("create", self.create), ("move", self.move), ("import", self.import_),
                ("stop managing", self.forget), ("outputs", self.outputs),
                ("changed outside Terraform", self.drift)]

    @property
    def empty(self) -> bool:
        return not any(items for _, items in self.groups())

    def counts_text(self) -> str:
        parts = [f"{len(items)} to {name}" for name, items in self.groups()[:7] if items]
        text = ", ".join(parts) if parts else "no resource changes"
        return text + (f"; {len(self.outputs)} output(s) change" if self.outputs and not parts else "")

    def lines(self, limit: int = LISTED) -> list[str]:
        """One sentence per non-empty group: 'Will replace (1): aws_security_group.legacy (name ...).'"""
        if self.empty:
            return ["No changes: the infrastructure matches the configuration."]
        out = []
        for name, items in self.groups():
            if not items:
                continue
            shown = ", ".join(f"{i.address} ({i.detail})" if i.detail else i.address for i in items[:limit])
            more = f" and {len(items) - limit} more" if len(items) > limit else ""
            verb = "Changed outside Terraform" if name.startswith("changed") else \
                "Outputs" if name == "outputs" else f"Will {name}"
            out.append(f"{verb} ({len(items)}): {shown}{more}.")
        return out


def _update_detail(rc: ResourceChange) -> str:
    if rc.tags_only:
        return "tags only"
    names = [a.name for a in rc.changed_attributes() if a.name != "tags_all"]
    return ", ".join(names[:6]) + (" ..." if len(names) > 6 else "")


def summarize(plan: Plan) -> PlanSummary:
    s = PlanSummary()
    for rc in plan.resource_changes:
        if rc.mode != "managed":
            continue
        if rc.is_move:
            s.move.append(SummaryItem(address=rc.address, detail=f"from {rc.moved_from}"))
        if rc.is_import:
            s.import_.append(SummaryItem(address=rc.address, detail=f"id {rc.import_id}"))
        if rc.action is Action.DELETE:
            s.destroy.append(SummaryItem(address=rc.address))
        elif rc.action is Action.REPLACE:
            forced = ", ".join(f"{a.name} {a.render()}" for a in rc.forcing_attributes())
            s.replace.append(SummaryItem(address=rc.address, detail=forced))
        elif rc.action is Action.UPDATE:
            s.update.append(SummaryItem(address=rc.address, detail=_update_detail(rc)))
        elif rc.action is Action.CREATE:
            s.create.append(SummaryItem(address=rc.address))
        elif rc.action is Action.FORGET:
            s.forget.append(SummaryItem(address=rc.address))
    for o in plan.outputs:
        if o.action is not Action.NO_OP:
            s.outputs.append(SummaryItem(address=o.name, detail=f"{o.action.value}: {o.render()}"))
    for d in plan.drift:
        if (d.attributes and d.relevant) or d.deleted_outside:
            what = "deleted" if d.deleted_outside else ", ".join(a.name for a in d.attributes)
            s.drift.append(SummaryItem(address=d.address,
                                       detail=f"{what}; {'this plan reverts it' if d.reverts else 'kept'}"))
    return s
