"""Build the per-function model from sampled call stacks (shared by every stack-based loader)."""

from __future__ import annotations

from collections.abc import Callable

from perfpilot.tools.model import Frame, FunctionKey, FunctionStats, Profile, Stacks


def default_key(frame: Frame) -> FunctionKey:
    """Identify a frame's function by file, name and (when known) def line."""
    # Without a def line, A.run and B.run of one file would merge; the qualname keeps them
    # apart. (The workspace mapping re-folds stacks by source position and never uses these
    # keys, so the qualname-as-name is only seen in the profile's own function table.)
    name = frame.qualname if frame.qualname and not frame.def_line else frame.name
    return FunctionKey(frame.file, frame.def_line, name)


class StackBuilder:
    """Collects frames and weighted stacks; deduplicates both as they arrive."""

    def __init__(self) -> None:
        self.stacks = Stacks()
        self._frame_ids: dict[tuple[str, str, int, int, str | None], int] = {}

    def frame(
        self,
        file: str,
        name: str,
        line: int = 0,
        def_line: int = 0,
        qualname: str | None = None,
    ) -> int:
        """Return the index of a frame, adding it on first sight."""
        ident = (file, name, line, def_line, qualname)
        index = self._frame_ids.get(ident)
        if index is None:
            index = len(self.stacks.frames)
            self._frame_ids[ident] = index
            self.stacks.frames.append(Frame(file, name, line, def_line, qualname))
        return index

    def add(self, stack: tuple[int, ...], weight: float) -> None:
        """Add `weight` to a root-first stack of frame indexes."""
        if weight <= 0 or not stack:
            return
        table = self.stacks.stacks
        table[stack] = table.get(stack, 0.0) + weight

    def build(
        self,
        format: str,
        unit: str,
        source: str,
        duration: float | None = None,
        meta: dict[str, str] | None = None,
        total: float | None = None,
    ) -> Profile:
        """Aggregate the stacks into a Profile (total defaults to the sum of weights)."""
        functions = aggregate(self.stacks, default_key)
        weight_sum = sum(self.stacks.stacks.values())
        return Profile(
            format=format,
            unit=unit,
            source=source,
            total=weight_sum if total is None else total,
            duration=duration,
            functions=functions,
            stacks=self.stacks,
            meta=meta or {},
        )


def aggregate(
    stacks: Stacks, key_of: Callable[[Frame], FunctionKey | None]
) -> dict[FunctionKey, FunctionStats]:
    """Fold weighted stacks into per-function stats.

    `key_of` maps a frame to the function it belongs to (None drops the frame, e.g. a frame that
    is not ours). Inclusive time and edges are counted once per stack, so recursion does not
    inflate them; line times are recorded for leaf frames that carry an executing line.
    """
    frame_keys = [key_of(frame) for frame in stacks.frames]
    frames = stacks.frames
    result: dict[FunctionKey, FunctionStats] = {}

    def stats_for(key: FunctionKey, frame: Frame) -> FunctionStats:
        stats = result.get(key)
        if stats is None:
            stats = result[key] = FunctionStats(key=key, qualname=frame.qualname)
        return stats

    for stack, weight in stacks.stacks.items():
        keyed = [(frame_keys[i], i) for i in stack if frame_keys[i] is not None]
        if not keyed:
            continue
        seen: set[FunctionKey] = set()
        seen_edges: set[tuple[FunctionKey, FunctionKey]] = set()
        previous: FunctionKey | None = None
        for key, index in keyed:
            assert key is not None
            stats = stats_for(key, frames[index])
            if key not in seen:
                seen.add(key)
                stats.total_time += weight
            if previous is not None and previous != key:
                edge = (previous, key)
                if edge not in seen_edges:
                    seen_edges.add(edge)
                    stats.callers[previous] = stats.callers.get(previous, 0.0) + weight
                    parent = result[previous]
                    parent.callees[key] = parent.callees.get(key, 0.0) + weight
            previous = key
        leaf_key, leaf_index = keyed[-1]
        assert leaf_key is not None
        leaf = result[leaf_key]
        leaf.self_time += weight
        leaf_frame = frames[leaf_index]
        if leaf_frame.line > 0:
            leaf.line_times[leaf_frame.line] = leaf.line_times.get(leaf_frame.line, 0.0) + weight
    return result
