"""Find skills: built-in ones, those of installed packages, and the workspace's (words only)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

from perfpilot.skills.front_matter import simple_yaml
from perfpilot.skills.measured import Measured, measured_of
from perfpilot.skills.plugin_scan import may_declare
from perfpilot.skills.transform_loading import TransformError, TransformLoader
from perfpilot.skills.triggers import Trigger, trigger_of
from perfpilot.tools.model import Applicability

if TYPE_CHECKING:  # libcst loads with the first transform, not with a skill listing
    from perfpilot.skills.api import Transform

ENTRY_POINT_GROUP = "perfpilot.skills"
WORKSPACE_SKILLS = Path(".perfpilot") / "skills"
BUILTIN_DIR = Path(__file__).resolve().parent
_NAME = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
_CODE = {"offense": re.compile(r"^PP1\d\d$"), "defense": re.compile(r"^PP2\d\d$")}
_APPLICABILITY = {
    "safe": Applicability.SAFE,
    "unsafe": Applicability.UNSAFE,
    "display-only": Applicability.DISPLAY_ONLY,
}
MAX_SKILL_BYTES = 256 * 1024
OTHERWISE = "otherwise"
VERIFIED_FASTER_KEY = "applicability-verified-faster"


@dataclass(frozen=True)
class Skill:
    """One skill: its words (SKILL.md) and, when trusted, its deterministic transform."""

    name: str
    description: str
    code: str | None
    kind: str
    applicability: Applicability
    body: str
    path: Path
    origin: str  # "built-in", "package <dist>", "workspace"
    # The trusted transform.py beside SKILL.md (None: words only), imported on first use.
    loader: TransformLoader | None = None
    metadata: dict[str, object] = field(default_factory=dict)
    # Each level a fix can get and when (metadata `applicability-default` and
    # `applicability-<level>-when`); empty when every fix gets the ceiling.
    applicability_when: tuple[tuple[Applicability, str], ...] = ()
    # metadata `measured-median`/`measured-fixes`; None: unmeasured (see skills/measured.py)
    measured: Measured | None = None
    # metadata `applicability-verified-faster`: the level an instance may rise to when
    # verification measured its fix faster on its function, behaviour equal (None: never).
    verified_applicability: Applicability | None = None
    # What was wrong in SKILL.md but did not stop it loading (a bad measured figure).
    warnings: tuple[str, ...] = ()
    # metadata `trigger`: text a function must hold for the skill to run on it (skills/triggers.py)
    trigger: Trigger | None = None

    @property
    def deterministic(self) -> bool:
        """Whether the skill has a transform (imported or not yet)."""
        return self.loader is not None

    @property
    def transform(self) -> Transform | None:
        """The deterministic transform, imported now if it was not; raises TransformError."""
        return self.loader.get() if self.loader is not None else None

    def may_fire(self, text: str) -> bool:
        """Whether the skill can find anything in a function of this text (its trigger)."""
        return self.trigger is None or self.trigger.matches(text)

    @property
    def unproven(self) -> bool:
        """Measured on the corpus below MIN_MEDIAN: not offered by default."""
        return self.measured is not None and not self.measured.proven

    def applicability_rule(self) -> str:
        """`unsafe; safe when ...`: the usual level first, then when another one applies."""
        pairs = self.applicability_when or ((self.applicability, OTHERWISE),)
        usual = [_level_name(level) for level, when in pairs if when.startswith(OTHERWISE)]
        others = [
            f"{_level_name(level)} when {when}"
            for level, when in pairs
            if not when.startswith(OTHERWISE)
        ]
        if self.verified_applicability is not None:
            level = _level_name(self.verified_applicability)
            others.append(f"{level} when verified faster on the function, behaviour equal")
        return "; ".join(usual + others)


@dataclass
class SkillSet:
    """The skills found, and what was wrong with the ones that were not loaded."""

    skills: list[Skill] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def by_name(self, name: str) -> Skill | None:
        """The skill called `name`, if any."""
        return next((s for s in self.skills if s.name == name), None)

    def by_code(self, code: str) -> Skill | None:
        """The skill reporting `code`, if any."""
        return next((s for s in self.skills if s.code == code), None)

    def with_transforms(self) -> list[Skill]:
        """The deterministic skills (their transforms imported or not yet)."""
        return [s for s in self.skills if s.deterministic]

    def load_transforms(self) -> list[str]:
        """Import every transform not imported yet; a skill whose import fails is dropped.

        Returns what failed (also added to `problems`).
        """
        failed: list[str] = []
        kept: list[Skill] = []
        for skill in self.skills:
            try:
                skill.transform  # noqa: B018 - imports it
            except TransformError as exc:
                failed.append(str(exc))
                continue
            kept.append(skill)
        self.skills = kept
        self.problems += failed
        return failed


class SkillError(Exception):
    """A SKILL.md (or its transform) that cannot be used; the message names the file."""


def discover(
    workspace: Path | None = None,
    packages: bool = True,
    transforms: bool = True,
    lazy: bool = False,
) -> SkillSet:
    """All skills: built-in, then installed packages', then the workspace's (words only).

    A later skill whose name or code is already taken is reported and skipped, so nothing
    found in a workspace can replace a built-in skill. With `transforms=False` only the
    words are read (no transform is imported): enough to list or show skills. With `lazy`
    each transform is imported when first used (a run that triggers few skills imports few);
    one that fails then is skipped where it was needed, its error kept on its loader.
    """
    found = SkillSet()
    sources: list[tuple[Path, str, bool]] = [(BUILTIN_DIR, "built-in", True)]
    if packages:
        sources += _package_dirs(found.problems)
    if workspace is not None:
        sources.append((workspace / WORKSPACE_SKILLS, "workspace", False))
    for directory, origin, trusted in sources:
        for skill_md in sorted(directory.glob("*/SKILL.md")) if directory.is_dir() else []:
            if not trusted and workspace is not None and not _inside(skill_md, workspace):
                # A link to a file elsewhere would hand that file to the LLM as a skill.
                found.problems.append(f"{skill_md}: skipped: it resolves outside the workspace")
                continue
            try:
                skill = load_skill(skill_md, origin, trusted and transforms)
            except SkillError as exc:
                found.problems.append(str(exc))
                continue
            clash = found.by_name(skill.name) or (skill.code and found.by_code(skill.code))
            if clash:
                found.problems.append(
                    f"{skill_md}: skipped: {skill.name} ({skill.code}) clashes with the"
                    f" {clash.origin} skill {clash.name} ({clash.code})"
                )
                continue
            found.skills.append(skill)
            found.problems += skill.warnings
    if transforms and not lazy:
        found.load_transforms()
    return found


def load_skill(skill_md: Path, origin: str, trusted: bool) -> Skill:
    """Read one SKILL.md; load the transform beside it only from a trusted (installed) source."""
    try:
        if skill_md.stat().st_size > MAX_SKILL_BYTES:
            raise SkillError(f"{skill_md}: larger than {MAX_SKILL_BYTES // 1024} KiB")
        text = skill_md.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SkillError(f"{skill_md}: cannot read: {exc}") from None
    front, body = split_front_matter(text, skill_md)
    folder = skill_md.parent.name
    name = front.get("name")
    if not isinstance(name, str) or not _NAME.match(name) or len(name) > 64:
        raise SkillError(f"{skill_md}: `name` must be lowercase words joined by hyphens")
    if name != folder:
        raise SkillError(f"{skill_md}: `name` is {name!r} but the folder is {folder!r}")
    description = front.get("description")
    if not isinstance(description, str) or not description.strip():
        raise SkillError(f"{skill_md}: `description` is missing")
    metadata = front.get("metadata") or {}
    if not isinstance(metadata, dict):
        raise SkillError(f"{skill_md}: `metadata` must be a mapping")
    kind = str(metadata.get("kind", "offense"))
    if kind not in _CODE:
        raise SkillError(f"{skill_md}: metadata.kind must be offense or defense, not {kind!r}")
    code = metadata.get("code")
    if code is not None and (not isinstance(code, str) or not _CODE[kind].match(code)):
        raise SkillError(f"{skill_md}: metadata.code {code!r} is not a PP1xx/PP2xx code")
    applicability_text = str(metadata.get("applicability", "display-only"))
    if applicability_text not in _APPLICABILITY:
        raise SkillError(
            f"{skill_md}: metadata.applicability must be one of {', '.join(_APPLICABILITY)}"
        )
    applicability = _APPLICABILITY[applicability_text]
    when = _applicability_when(metadata, applicability, skill_md)
    measured, figure_problems = measured_of(metadata)
    trigger, trigger_problems = trigger_of(metadata)
    verified_level = _verified_applicability(metadata, applicability, skill_md)
    transform_py = skill_md.parent / "transform.py"
    loader = None
    if trusted and transform_py.is_file():
        if code is None:
            raise SkillError(f"{skill_md}: a skill with a transform needs metadata.code")
        effect = _effect(metadata["effect"], skill_md) if "effect" in metadata else None
        loader = TransformLoader(transform_py, name, code, applicability, effect)
    skill = Skill(
        name=name,
        description=description.strip(),
        code=code,
        kind=kind,
        applicability=applicability,
        body=body,
        path=skill_md,
        origin=origin,
        metadata=dict(metadata),
        applicability_when=when,
        measured=measured,
        verified_applicability=verified_level,
        warnings=tuple(
            f"{skill_md}: {problem}" for problem in [*figure_problems, *trigger_problems]
        ),
        trigger=trigger,
        loader=loader,
    )
    return skill


def split_front_matter(text: str, where: Path) -> tuple[dict[str, object], str]:
    """The YAML front matter (between `---` lines) and the Markdown body of a SKILL.md."""
    lines = text.splitlines(keepends=True)
    if not lines or lines[0].strip() != "---":
        raise SkillError(f"{where}:1: SKILL.md must start with `---` front matter")
    for index in range(1, len(lines)):
        if lines[index].strip() == "---":
            front_text = "".join(lines[1:index])
            simple = simple_yaml(front_text)  # the YAML front matter is written in, read fast
            if simple is not None:
                return simple, "".join(lines[index + 1 :]).lstrip("\n")
            # Anything else: PyYAML, imported here (the language server starts without it).
            import yaml

            # libyaml's parser when PyYAML has it: a tenth of the pure-Python one's time,
            # with the same safe constructor.
            loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
            try:
                front = yaml.load(front_text, Loader=loader) or {}  # noqa: S506
            except yaml.YAMLError as exc:
                mark = getattr(exc, "problem_mark", None)
                line = mark.line + 2 if mark is not None else 1
                raise SkillError(f"{where}:{line}: front matter is not valid YAML") from None
            if not isinstance(front, dict):
                raise SkillError(f"{where}:2: front matter must be a mapping")
            return front, "".join(lines[index + 1 :]).lstrip("\n")
    raise SkillError(f"{where}:1: front matter has no closing `---`")


def _inside(path: Path, root: Path) -> bool:
    """Does `path`, links resolved, lie inside `root` (links resolved)?"""
    real, base = path.resolve(), root.resolve()
    return real == base or base in real.parents


def _applicability_when(
    metadata: dict[str, object], ceiling: Applicability, where: Path
) -> tuple[tuple[Applicability, str], ...]:
    """`applicability-default` and `applicability-<level>-when`, checked; () when absent.

    Flat string values, as the Agent Skills specification wants metadata: known levels, and
    the highest level named is the ceiling (`applicability`).
    """
    conditions = {
        key[len("applicability-") : -len("-when")]: value
        for key, value in metadata.items()
        if key.startswith("applicability-") and key.endswith("-when")
    }
    default = metadata.get("applicability-default")
    if default is None and not conditions:
        return ()
    field_name = f"{where}: metadata.applicability-"
    if default not in _APPLICABILITY or not conditions:
        raise SkillError(f"{field_name}default must be a level, with at least one <level>-when")
    pairs = [(_APPLICABILITY[str(default)], OTHERWISE)]
    for level, when in conditions.items():
        if level not in _APPLICABILITY or level == default:
            raise SkillError(f"{field_name}{level}-when: not a level other than the default")
        if not isinstance(when, str) or not when.strip():
            raise SkillError(f"{field_name}{level}-when: must be a condition (text)")
        pairs.append((_APPLICABILITY[level], " ".join(when.split())))
    if max(level for level, _ in pairs) != ceiling:
        raise SkillError(f"{field_name}*: the highest level must be metadata.applicability")
    return tuple(pairs)


def _verified_applicability(
    metadata: dict[str, object], ceiling: Applicability, where: Path
) -> Applicability | None:
    """`applicability-verified-faster`: a level, at most the skill's ceiling; None when absent.

    For a skill whose instances are held below the ceiling for want of speed evidence (not of
    safety): a faster verdict on the very function is that evidence.
    """
    value = metadata.get(VERIFIED_FASTER_KEY)
    if value is None:
        return None
    level = _APPLICABILITY.get(str(value))
    if level is None or level > ceiling or level is Applicability.DISPLAY_ONLY:
        raise SkillError(
            f"{where}: metadata.{VERIFIED_FASTER_KEY} must be unsafe or safe, at most"
            " metadata.applicability"
        )
    return level


def _level_name(level: Applicability) -> str:
    return level.name.lower().replace("_", "-")


def _effect(value: object, where: Path) -> float:
    if isinstance(value, int | float) and not isinstance(value, bool) and 0 < value <= 1:
        return float(value)
    raise SkillError(f"{where}: metadata.effect must be a fraction in (0, 1]")


def _package_dirs(problems: list[str]) -> list[tuple[Path, str, bool]]:
    """Skill folders declared by installed packages (entry point group `perfpilot.skills`)."""
    if not may_declare(ENTRY_POINT_GROUP):
        return []  # the usual case, known without importing importlib.metadata
    from importlib.metadata import entry_points  # reads every installed package: on demand

    found: list[tuple[Path, str, bool]] = []
    for entry in entry_points(group=ENTRY_POINT_GROUP):
        origin = f"package {entry.dist.name if entry.dist else entry.value}"
        try:
            target = entry.load()
        except Exception as exc:  # noqa: BLE001 - a broken plugin is reported, not fatal
            problems.append(f"entry point {entry.name} ({entry.value}): {exc}")
            continue
        if isinstance(target, ModuleType):
            locations = list(getattr(target, "__path__", [])) or [str(Path(target.__file__ or "."))]
            directory = Path(locations[0])
            directory = directory if directory.is_dir() else directory.parent
        else:
            directory = Path(str(target))
        found.append((directory, origin, True))
    return found
