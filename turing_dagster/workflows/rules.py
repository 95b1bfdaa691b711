"""Load-time rules over parsed conversations that pydantic cannot express field by field.

They need sibling names, the whole conversation graph, or paths through it. Findings are plain
(conversation, field, message) triples; workflow_loader turns them into WorkflowErrors.
"""

from __future__ import annotations

from turing_dagster.workflows.placeholders import POSTING_PREFIX, find_lookalikes, find_placeholders, turn_number
from turing_dagster.workflows.spec import END, Conversation, Defaults, WaveSettings, Workflow

# Columns of `postings` that a conversation may write its output into (`save_to`); the store makes them.
SAVE_TO_COLUMNS = ("extracted_summary", "skills", "ihl_score", "job_title_normalized", "language")

Finding = tuple[str | None, str, str]


def check_conversations(parsed: list[tuple[str, Conversation]], known: set[str], complete: bool) -> list[Finding]:
    """Every rule finding for the conversations that parsed, each labelled as in `parsed`.

    `known` holds every conversation name in the file, parsed or not, so a goto to a conversation
    that failed to parse is not also reported as unknown. Path rules run only when `complete`
    (every conversation parsed), since a missing node would make paths look broken.
    """
    found: list[Finding] = []
    for label, conv in parsed:
        found += [(label, f, m) for f, m in _conversation_rules(conv, known)]
    if parsed:
        found += _graph_rules([conv for _, conv in parsed], check_paths=complete)
    return found


def _conversation_rules(conv: Conversation, known: set[str]) -> list[tuple[str, str]]:
    """Rules that need one conversation plus the names of its siblings: (field, message) pairs."""
    found: list[tuple[str, str]] = []
    if conv.prompt is not None and conv.instructions is not None:
        found.append(("instructions", "give either `prompt` or `instructions`, not both"))
    elif conv.is_python and conv.instructions is not None:
        found.append(("instructions", f"a python actor ({conv.actor!r}) takes no instructions"))
    elif not conv.is_python and not conv.prompt and not conv.instructions:
        found.append(("prompt", f"required for an LLM conversation (actor {conv.actor!r}), or `instructions`"))
    if conv.instructions is not None:
        if not conv.instructions:
            found.append(("instructions", "must list at least one turn"))
        for field in ("format", "validate"):
            if getattr(conv, "checks" if field == "validate" else field) is not None:
                found.append((field, f"with `instructions`, give `{field}` on the turns it applies to"))
    if conv.save_to is not None and conv.save_to not in SAVE_TO_COLUMNS:
        columns = ", ".join(SAVE_TO_COLUMNS)
        found.append(("save_to", f"unknown postings column {conv.save_to!r} (expected one of: {columns})"))
    rules = conv.next or []
    if conv.next == []:
        found.append(("next", "must list at least one rule (omit `next` to go on to the next execution_order)"))
    for i, rule in enumerate(rules[:-1]):
        if rule.when is None:
            found.append((f"next[{i}]", ("a rule without `when` always matches, so the rules after it are "
                          "unreachable; make it the last rule")))
            break
    for i, rule in enumerate(rules):
        if rule.goto != END and rule.goto not in known:
            expected = ", ".join(sorted(known))
            found.append((f"next[{i}].goto", f"unknown conversation {rule.goto!r} (expected END or: {expected})"))
    for field, text, turn in conv.templates():
        for ph in find_placeholders(text):
            for alt in ph.alternatives:
                number = turn_number(alt) if turn is not None else None
                if number is not None:
                    if number >= turn:
                        before = f"turns 1-{turn - 1}" if turn > 2 else "turn1" if turn == 2 else "no turn"
                        found.append((field, (f"placeholder {ph.text} names turn {number}, but only earlier turns "
                                              f"of this chat can be named here ({before})")))
                    continue
                if not alt.startswith(POSTING_PREFIX) and ("." in alt or alt not in known):
                    found.append((field, (f"unknown placeholder {ph.text}: {alt!r} is neither posting.FIELD "
                                         "nor a conversation of this workflow")))
    return list(dict.fromkeys(found))


def _graph_rules(convs: list[Conversation], check_paths: bool) -> list[tuple[str | None, str, str]]:
    """Rules over the whole conversation graph: (conversation, field, message) triples."""
    found: list[tuple[str | None, str, str]] = []
    by_name: dict[str, Conversation] = {}
    by_id: dict[int, Conversation] = {}
    for conv in convs:
        if conv.name in by_name:
            found.append((conv.name, "name", f"duplicate name {conv.name!r}: names must be unique in a workflow"))
        if conv.conversation_id in by_id:
            other = by_id[conv.conversation_id].name
            found.append((conv.name, "conversation_id",
                          f"duplicate conversation_id {conv.conversation_id} (also conversation '{other}')"))
        by_name.setdefault(conv.name, conv)
        by_id.setdefault(conv.conversation_id, conv)
    lowest = min(c.execution_order for c in convs)
    firsts = [c for c in convs if c.execution_order == lowest]
    for conv in firsts[1:]:
        found.append((conv.name, "execution_order", (f"{lowest} is the lowest execution_order and is shared with "
                      f"'{firsts[0].name}': the entry conversation must be unique")))
    for conv in convs:
        if conv.next is None:
            later = sorted({c.execution_order for c in convs if c.execution_order > conv.execution_order})
            following = [c.name for c in convs if later and c.execution_order == later[0]]
            if len(following) > 1:
                found.append((conv.name, "next", (f"ambiguous default next: {', '.join(following)} all follow at "
                              f"execution_order {later[0]}; add `next` rules")))
            continue
        for i, rule in enumerate(conv.next):
            target = by_name.get(rule.goto)
            if target is not None and target.execution_order <= conv.execution_order:
                what = "itself" if target is conv else f"'{target.name}' (execution_order {target.execution_order})"
                found.append((conv.name, f"next[{i}].goto", (f"goes back to {what}; goto must name END or a "
                              f"conversation with an execution_order higher than {conv.execution_order}")))
    targets_known = all(r.goto == END or r.goto in by_name for c in convs for r in c.next or [])
    if check_paths and not found and targets_known:
        found += _path_rules(convs, firsts[0])
    return list(dict.fromkeys(found))


def _path_avoiding(wf: Workflow, entry: str, target: str, avoid: set[str]) -> list[str] | None:
    """Some path from `entry` to `target` through none of `avoid` (before `target`), or None."""
    parent: dict[str, str | None] = {entry: None}
    todo = [entry] if entry == target or entry not in avoid else []
    while todo:
        node = todo.pop()
        if node == target:
            path = [node]
            while (previous := parent[path[-1]]) is not None:
                path.append(previous)
            return path[::-1]
        for succ in wf.successors(node):
            if succ not in parent and (succ == target or succ not in avoid):
                parent[succ] = node
                todo.append(succ)
    return None


def _path_rules(convs: list[Conversation], entry: Conversation) -> list[tuple[str | None, str, str]]:
    """A conversation placeholder must be produced on every path from the entry, or have a fallback that is.

    "Every path runs one of the alternatives first" is the same as "no path avoids them all", which
    a plain graph search answers exactly without enumerating paths (their number can explode).
    """
    wf = Workflow.model_construct(conversations=convs, defaults=Defaults(), waves=WaveSettings())
    names = {c.name for c in convs}
    found: list[tuple[str | None, str, str]] = []
    for conv in wf.ordered:
        for field, text, turn in conv.templates():
            for ph in find_placeholders(text):
                if len(ph.conversation_names) < len(ph.alternatives) or not names.issuperset(ph.alternatives):
                    continue  # a posting.* alternative always exists; unknown names are reported already
                if turn is not None and any(turn_number(a) is not None for a in ph.alternatives):
                    continue  # an earlier turn of this chat always exists
                path = _path_avoiding(wf, entry.name, conv.name, set(ph.alternatives))
                if path is not None:
                    route = " -> ".join(path)
                    needed = " or ".join(repr(a) for a in ph.alternatives)
                    found.append((conv.name, field, (f"placeholder {ph.text} is not produced on every path to this "
                                  f"conversation: {route} does not run {needed} before it (add a | fallback?)")))
    return list(dict.fromkeys(found))


def lookalike_warnings(workflow: Workflow) -> list[Finding]:
    """Brace text in prompts that looks like a placeholder but is not one: it reaches the model literally."""
    found: list[Finding] = []
    for conv in workflow.conversations:
        for field, text, _ in conv.templates():
            for literal in find_lookalikes(text):
                found.append((conv.name, field, (f"{literal} looks like a placeholder but is not one, so it is "
                              "sent to the model literally (placeholders are {posting.FIELD}, {conversation} "
                              "and {a|b}, without spaces)")))
    return found
