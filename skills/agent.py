"""The efficiency agent: an LLM optimizes one hot function through perfpilot's tools.

The model reads through read-only tools and ends by calling `propose_edit`; every proposal is
parsed and validated (never executed), and a refusal goes back to the model with its reason,
at most `attempts` times. What survives is a Fix that is UNSAFE at best: a person reviews it.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import anthropic

from perfpilot.skills.agent_prompt import chosen_skill, first_message, system_prompt
from perfpilot.tools.agent_tools import (
    TOOLS,
    FunctionProfile,
    FunctionRef,
    ToolContext,
    function_profile,
    function_source,
)
from perfpilot.tools.edits import line_edits
from perfpilot.tools.function_edit import EditCheck
from perfpilot.tools.llm_config import LLMSettings
from perfpilot.tools.model import Applicability, Fix
from perfpilot.tools.registry import ToolError, to_data
from perfpilot.tools.verify.verdict import with_verdict

log = logging.getLogger(__name__)
MAX_TOOL_RESULT_CHARS = 30_000
MAX_RETRY_DELAY = 30.0
TERMINAL_TOOL = "propose_edit"
# Tools the model is not offered: verification runs inside propose_edit when it is on.
NOT_FOR_THE_MODEL = frozenset({"verify_fix"})
Progress = Callable[[str], None]


class AgentError(Exception):
    """The agent could not talk to the API; the message is for the user (never the key)."""


@dataclass(frozen=True, slots=True)
class Attempt:
    """One proposal (or reply without one) and what validation said."""

    number: int
    ok: bool
    reason: str


@dataclass
class AgentResult:
    """What one optimize request produced: a fix, or why there is none."""

    path: str
    qualname: str
    original: str
    fix: Fix | None = None
    check: EditCheck | None = None
    explanation: str = ""
    error: str | None = None
    api_failed: bool = False  # the error is the API's (unreachable, 5xx, ...), not a refusal
    attempts: list[Attempt] = field(default_factory=list)
    refused_calls: list[str] = field(default_factory=list)  # tool calls perfpilot refused
    tool_calls: list[str] = field(default_factory=list)
    turns: int = 0
    input_tokens: int = 0
    output_tokens: int = 0

    @property
    def ok(self) -> bool:
        """True when a validated fix came out."""
        return self.fix is not None and self.fix.applicable


def make_client(settings: LLMSettings) -> anthropic.AsyncAnthropic:
    """An Anthropic client with the configured key, URL and timeout; AgentError without key.

    The SDK's own retries are off: `call_model` retries with perfpilot's policy and reports it.
    """
    if not settings.enabled:
        raise AgentError("the LLM is disabled (perfpilot.llm enabled = false): nothing was sent")
    key = settings.key()
    if key is None:
        raise AgentError(
            f"no API key: set the {settings.api_key_env} environment variable of perfpilot"
            " (or perfpilot.llm.apiKey in the editor's settings)"
        )
    return anthropic.AsyncAnthropic(
        api_key=key, base_url=settings.base_url, timeout=settings.timeout, max_retries=0
    )


async def run_agent(
    ctx: ToolContext,
    settings: LLMSettings,
    *,
    skill: str | None = None,
    client: anthropic.AsyncAnthropic | None = None,
    progress: Progress | None = None,
    context: str | None = None,
) -> AgentResult:
    """Optimize `ctx.target`; API failures end up in `error`, cancellation propagates.

    `context` (e.g. a regression's diff and profile delta) follows the function's source in
    the first message, as data.
    """
    assert ctx.target is not None, "the agent needs a target function"
    target = ctx.target
    report = progress or (lambda _: None)
    relative = ctx.relative(target.path)
    source = function_source(ctx, relative, target.qualname)
    result = AgentResult(target.path, target.qualname, ctx.read(ctx.resolve(relative)))
    evidence = _evidence(ctx, relative, target.qualname)
    system = system_prompt(
        chosen_skill(ctx.skills, skill),
        ctx.skills,
        target.qualname,
        relative,
        evidence,
        settings.attempts,
        verify=ctx.verify is not None,
    )
    opening = first_message(source) + (f"\n\n{context}" if context else "")
    messages: list[dict[str, Any]] = [{"role": "user", "content": opening}]
    own_client = client is None
    try:
        client = client or make_client(settings)
        await _loop(client, settings, ctx, system, messages, result, report)
    except AgentError as exc:
        result.error = str(exc)
        result.api_failed = True
    finally:
        if own_client and client is not None:
            await client.close()
    return result


async def _loop(
    client: anthropic.AsyncAnthropic,
    settings: LLMSettings,
    ctx: ToolContext,
    system: str,
    messages: list[dict[str, Any]],
    result: AgentResult,
    report: Progress,
) -> None:
    tools = [spec for spec in TOOLS.specs() if spec["name"] not in NOT_FOR_THE_MODEL]
    while True:
        if result.turns >= settings.max_turns:
            result.error = f"no accepted proposal after {result.turns} model turns; gave up"
            return
        spent = result.input_tokens + result.output_tokens
        if spent >= settings.budget:
            result.error = f"token budget spent ({spent:,} of {settings.budget:,}); gave up"
            return
        report(f"asking {settings.model} (turn {result.turns + 1})")
        response = await call_model(client, settings, system, tools, messages, report)
        result.turns += 1
        usage = getattr(response, "usage", None)
        result.input_tokens += getattr(usage, "input_tokens", 0) or 0
        result.output_tokens += getattr(usage, "output_tokens", 0) or 0
        messages.append({"role": "assistant", "content": [_block(b) for b in response.content]})
        uses = [b for b in response.content if b.type == "tool_use"]
        if not uses:
            why = (
                "the reply was cut at max_tokens before a proposal"
                if response.stop_reason == "max_tokens"
                else "the reply has no propose_edit call (no code to validate)"
            )
            if _refuse(result, settings, why):
                return
            messages.append(
                {
                    "role": "user",
                    "content": f"Refused: {why}. Call propose_edit with the complete new"
                    " definition of the function.",
                }
            )
            continue
        answers = []
        for use in uses:
            answer = await _run_tool(ctx, use, result, report)
            answers.append(answer)
            if result.fix is not None:
                return
        messages.append({"role": "user", "content": answers})
        if len(result.attempts) >= settings.attempts:
            last = result.attempts[-1].reason
            result.error = f"{len(result.attempts)} proposals refused; the last: {last}"
            return


async def _run_tool(
    ctx: ToolContext, use: Any, result: AgentResult, report: Progress
) -> dict[str, Any]:
    """Run one tool call; the answer is a tool_result block (is_error when refused)."""
    tool = TOOLS.get(use.name) if use.name not in NOT_FOR_THE_MODEL else None
    result.tool_calls.append(use.name)
    if tool is None:
        result.refused_calls.append(use.name)
        return _answer(
            use.id,
            f"refused: there is no tool named {use.name!r}; the tools are"
            f" {', '.join(n for n in TOOLS.names() if n not in NOT_FOR_THE_MODEL)}, all"
            " read-only except propose_edit",
            error=True,
        )
    report(f"tool {use.name}")
    arguments = use.input if isinstance(use.input, dict) else {}
    try:
        value = await asyncio.to_thread(tool.call, ctx, arguments)
    except ToolError as exc:
        if tool.name == TERMINAL_TOOL:
            result.refused_calls.append(f"{use.name}: {exc}")
            _refuse(result, None, str(exc))
        return _answer(use.id, str(exc), error=True)
    except Exception as exc:  # noqa: BLE001 - a tool's bug is reported to the model, not fatal
        log.exception("tool %s failed", use.name)
        return _answer(use.id, f"the tool failed: {type(exc).__name__}: {exc}", error=True)
    if tool.name == TERMINAL_TOOL:
        assert isinstance(value, EditCheck)
        if value.ok:
            _accept(ctx, result, value)
            report("proposal accepted")
            return _answer(use.id, "accepted")
        _refuse(result, None, value.reason)
        report(f"proposal {len(result.attempts)} refused: {value.reason}")
        return _answer(use.id, json.dumps(to_data(value)), error=True)
    return _answer(use.id, json.dumps(to_data(value)))


def _accept(ctx: ToolContext, result: AgentResult, check: EditCheck) -> None:
    ref, _, explanation = ctx.proposals[-1]
    assert check.text is not None and check.applicability is not None
    result.attempts.append(Attempt(len(result.attempts) + 1, True, "passed validation"))
    result.check = check
    result.explanation = explanation.strip()
    applicability = min(check.applicability, Applicability.UNSAFE)
    fix = Fix(
        title=f"Optimize `{ref.qualname}` (AI)",
        applicability=applicability,
        edits=line_edits(result.original, check.text),
        stages=check.stages,
    )
    result.fix = with_verdict(fix, check.verdict) if check.verdict is not None else fix


def _refuse(result: AgentResult, settings: LLMSettings | None, reason: str) -> bool:
    """Count a refused attempt; True when that was the last one allowed (`settings` given)."""
    result.attempts.append(Attempt(len(result.attempts) + 1, False, reason))
    if settings is not None and len(result.attempts) >= settings.attempts:
        result.error = f"{len(result.attempts)} proposals refused; the last: {reason}"
        return True
    return False


def _answer(tool_use_id: str, content: str, *, error: bool = False) -> dict[str, Any]:
    if len(content) > MAX_TOOL_RESULT_CHARS:
        content = content[:MAX_TOOL_RESULT_CHARS] + "\n[... cut: the result was too long]"
    answer: dict[str, Any] = {"type": "tool_result", "tool_use_id": tool_use_id, "content": content}
    if error:
        answer["is_error"] = True
    return answer


def _block(block: Any) -> dict[str, Any]:
    """A reply's content block as a request parameter (only the fields the API takes back)."""
    if block.type == "text":
        return {"type": "text", "text": block.text}
    if block.type == "tool_use":
        return {"type": "tool_use", "id": block.id, "name": block.name, "input": block.input}
    return block.model_dump(exclude_none=True)


def _evidence(ctx: ToolContext, path: str, qualname: str) -> FunctionProfile | None:
    try:
        return function_profile(ctx, path, qualname)
    except ToolError:
        return None


async def call_model(
    client: anthropic.AsyncAnthropic,
    settings: LLMSettings,
    system: str,
    tools: list[dict[str, Any]],
    messages: list[dict[str, Any]],
    report: Progress,
) -> Any:
    """One Messages API request, retried with backoff on 429, 5xx and timeouts."""
    for retry in range(settings.retries + 1):
        try:
            return await client.messages.create(
                model=settings.model,
                max_tokens=settings.max_tokens,
                system=system,
                tools=tools,  # type: ignore[arg-type]
                messages=messages,  # type: ignore[arg-type]
            )
        except anthropic.APIStatusError as exc:
            if not _transient(exc.status_code) or retry == settings.retries:
                raise AgentError(_status_message(exc, settings, retry)) from None
            delay = _retry_after(exc) or settings.backoff * 2**retry
            what = f"status {exc.status_code}"
        except anthropic.APITimeoutError:
            if retry == settings.retries:
                raise AgentError(
                    f"{_where(settings)} did not answer within {settings.timeout:g} s"
                    f" ({_tries(retry + 1)}); try later or raise the llm timeout"
                ) from None
            delay, what = settings.backoff * 2**retry, "timeout"
        except anthropic.APIConnectionError as exc:
            if retry == settings.retries:
                raise AgentError(
                    f"cannot reach {_where(settings)}: {_connection_reason(exc)}"
                    f" ({_tries(retry + 1)})"
                ) from None
            delay, what = settings.backoff * 2**retry, "connection error"
        delay = min(delay, MAX_RETRY_DELAY)
        report(f"{what}: retrying in {delay:.1f} s ({retry + 1} of {settings.retries})")
        await asyncio.sleep(delay)
    raise AssertionError("unreachable")


def _transient(status: int) -> bool:
    return status in (408, 409, 429) or status >= 500


def _retry_after(exc: anthropic.APIStatusError) -> float | None:
    headers = exc.response.headers
    for name, scale in (("retry-after-ms", 0.001), ("retry-after", 1.0)):
        try:
            value = float(headers.get(name, "")) * scale
        except ValueError:
            continue
        if value >= 0:
            return value
    return None


def _status_message(exc: anthropic.APIStatusError, settings: LLMSettings, retries: int) -> str:
    body = exc.body if isinstance(exc.body, dict) else {}
    error = body.get("error") if isinstance(body.get("error"), dict) else {}
    detail = str(error.get("message") or exc.message)[:300]
    status = exc.status_code
    tries = f" (after {retries} {'retry' if retries == 1 else 'retries'})" if retries else ""
    where = _where(settings)
    if status == 401:
        source = "perfpilot.llm.apiKey" if settings.api_key else settings.api_key_env
        return f"{where} refused the key (401): check {source}"
    if status == 403:
        return f"{where} refused the request for this key (403): {detail}"
    if status == 404:
        return f"{where} answered 404 (not found): is `{settings.model}` a model name? {detail}"
    if status == 429:
        return f"rate limited by {where} (429){tries}: {detail}"
    if status >= 500:
        return f"{where} failed with status {status}{tries}: {detail}"
    return f"{where} refused the request ({status}): {detail}"


def _where(settings: LLMSettings) -> str:
    return f"the API at {settings.base_url}" if settings.base_url else "the Anthropic API"


def _tries(count: int) -> str:
    return f"{count} {'try' if count == 1 else 'tries'}"


def _connection_reason(exc: BaseException) -> str:
    """The innermost OS reason (connection refused, name not known), else the client's text."""
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, OSError) and (cause.errno or cause.strerror):
            # asyncio's strerror repeats the address; the errno's text is the reason.
            return (os.strerror(cause.errno) if cause.errno else str(cause.strerror)).lower()
        cause = cause.__cause__ or cause.__context__
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__


__all__ = ["AgentError", "AgentResult", "Attempt", "FunctionRef", "make_client", "run_agent"]
