"""Hostile text (issue 11, item 5) through every TUI widget and flow, with the Textual pilot.

Console markup (`[/b]` raised MarkupError: a turn aborted, a title made the app exit at start),
escape sequences and control characters (Textual writes them to the terminal as they are), bidi
and zero-width characters, 10k-character lines and lone surrogates: the app must keep running and
show each as text, markup characters as typed, with no control character left on the screen.
"""

from __future__ import annotations

from typing import Any

import pytest
from textual import events
from textual.content import Content
from textual.style import Style
from textual.widgets import Collapsible, OptionList
from textual.widgets.markdown import MarkdownBlock
from textual.widgets.option_list import Option

from agentchat.core.errors import ProviderError
from agentchat.core.events import Finish, TextDelta, ThinkingDelta, ToolCall
from agentchat.core.messages import Message, TextPart, ThinkingPart, ToolCallPart, ToolResultPart, Usage
from agentchat.core.request import ToolSpec
from agentchat.core.store import MATCH_CLOSE, MATCH_OPEN, SearchHit
from agentchat.core.text import clean
from agentchat.tools.base import Tool
from agentchat.tui.errors import notify_error
from agentchat.tui.screens.approval import ApprovalScreen
from agentchat.tui.screens.dialogs import Choice, Confirm, TextPrompt
from agentchat.tui.screens.keys import KeyStatusScreen
from agentchat.tui.screens.models import ModelPicker
from agentchat.tui.widgets.conversation import ConversationView
from agentchat.tui.widgets.reply_markdown import ReplyMarkdown
from agentchat.tui.widgets.sidebar import Sidebar, snippet_text
from agentchat.tui.widgets.tools import ToolPane
from tests.fakes.openai_fake import error as gpt_error
from tests.fakes.openai_fake import text as gpt_text
from tests.fakes.openai_fake import tool_calls as gpt_tools
from tests.test_hostile_text import HOSTILE, MARKERS, STORABLE, unsafe_chars
from tests.test_tui_helpers import (
    make_app,
    ready,
    screen_lines,
    send,
    settle,
    toasts,
    wait_for_text,
    write_config,
)

TALL = (140, 60)


def screen_problems(lines: list[str], height: int) -> set[str]:
    """Control characters and surrogates on the screen (a line break as a row too many)."""
    found: set[str] = {"\n"} if len(lines) != height else set()
    for line in lines:
        found |= unsafe_chars(line, allowed="")
    return found


async def shows(pilot: Any, *markers: str) -> str:
    """After a pause: the app runs, nothing broke, no control character is on screen and each
    marker is. Returns the screen."""
    await pilot.pause()
    app = pilot.app
    assert app.is_running
    assert not [t for t in toasts(app) if "Internal error" in t or "MarkupError" in t], toasts(app)
    lines = screen_lines(app)
    assert not screen_problems(lines, app.size.height), screen_problems(lines, app.size.height)
    text = "\n".join(lines)
    for marker in markers:
        assert marker in text, f"{marker!r} not on screen:\n{text}"
    return text


async def expand_all(pilot: Any) -> None:
    for collapsible in pilot.app.screen.query(Collapsible):
        collapsible.collapsed = False
    await pilot.pause()


async def in_view(pilot: Any, build: Any) -> None:
    """Replace the conversation with what `build(view)` mounts, scrolled to its top (`shows`
    pauses before it looks)."""
    view = pilot.app.screen.query_one(ConversationView)
    await view.remove_children()
    await build(view)
    await expand_all(pilot)
    view.scroll_home(animate=False)


async def modal(pilot: Any, screen: Any, *markers: str) -> None:
    """`screen` pushed (mounted, its workers done) shows each marker; then popped."""
    await pilot.app.push_screen(screen)
    await pilot.app.workers.wait_for_complete()
    await shows(pilot, *markers)
    await pilot.app.pop_screen()


@pytest.mark.parametrize("name", HOSTILE)
async def test_every_widget_shows_hostile_text_as_text(user_env, openai_fake, name: str) -> None:  # type: ignore[no-untyped-def]
    """One app per hostile text (a case each, so two workers share the ~30 s the seven take):
    it goes through every widget, modal and notification, after discovery found all of them."""
    openai_fake.models = [*HOSTILE.values(), "gpt-4o-mini"]  # what discovery finds at start: all of them
    config = write_config(user_env, openai=openai_fake)
    app = make_app(user_env, config)
    async with app.run_test(size=TALL, notifications=True) as pilot:
        await ready(pilot)
        await every_widget_shows(pilot, openai_fake, config, name)


async def every_widget_shows(pilot: Any, openai_fake: Any, config: Any, name: str) -> None:
    """`name`'s text through every widget."""
    app = pilot.app
    screen = app.screen
    text, marker = HOSTILE[name], MARKERS[name]
    short = marker[:12]  # what fits where the widget is narrow (sidebar, tool pane) or a label is cut
    call = ToolCallPart("c1", f"t{text}", {"arg": text})
    result = ToolResultPart("c1", text, is_error=True, name=f"t{text}", status="failed", duration_s=1.0)

    async def user(view: ConversationView) -> None:
        await view.append(Message.user(text))

    async def stored_reply(view: ConversationView) -> None:
        await view.append(
            Message(
                role="assistant",
                parts=[ThinkingPart(text), TextPart(text), call],
                provider=text,
                model=text,
                status=text,
                error=text,
                usage=Usage(1, 2),
                created_at=0.0,
            )
        )

    async def tool_results(view: ConversationView) -> None:
        await view.add_tool_result(result)

    async def streamed(view: ConversationView) -> None:
        reply = await view.start_reply(
            Message(role="assistant", provider=text, model=text, status="streaming")
        )
        for start in range(0, len(text), 5):  # sequences split across pieces
            await reply.apply(ThinkingDelta(text[start : start + 5]))
            await reply.apply(TextDelta(text[start : start + 5]))
        await reply.apply(ToolCall(call))
        await reply.apply(Finish(text))
        await reply.close()

    async def settled(view: ConversationView) -> None:
        await streamed(view)
        await view.query_children("ReplyBox").first().settle()  # type: ignore[attr-defined]

    for build in (user, stored_reply, tool_results, streamed, settled):
        await in_view(pilot, build)
        await shows(pilot, marker)

    await screen.view.remove_children()  # what is found from here on is in the widget under test
    screen.prompt.post_message(events.Paste(text))  # a paste (the user's, maybe from a web page)
    await shows(pilot, short)
    screen.prompt.clear()
    tools = screen.query_one(ToolPane)
    tools.display = True
    await tools.started(call)
    await tools.finished(call, result, "failed", 1.0)
    await expand_all(pilot)
    await shows(pilot, short)
    await tools.clear()

    screen.set_route(text, text)
    screen.bar.title = text
    await shows(pilot, short)

    results = screen.query_one(Sidebar).query_one("#results", OptionList)
    results.display = True
    hit = SearchHit(1, 1, text, "user", f"{text} {MATCH_OPEN}{text}{MATCH_CLOSE} {text}")
    results.add_option(Option(snippet_text(hit)))
    await shows(pilot, short)

    tool = Tool(ToolSpec("hostile_tool", text), run=None, source=text)  # type: ignore[arg-type]
    await modal(pilot, ApprovalScreen(call, tool), short)
    await modal(pilot, Confirm(text), short)
    await modal(pilot, TextPrompt(text, text), short)
    await modal(pilot, TextPrompt(text, text, multiline=True), short)
    await modal(pilot, Choice(text, [text, text]), short)
    openai_fake.models = [text, "gpt-4o-mini"]  # the model picker lists what the provider says
    await modal(pilot, ModelPicker(config, app.router, (None, None), {}), short)

    async def checker(settings: Any) -> str:
        return text

    await modal(pilot, KeyStatusScreen(config, checker=checker, health={}), short[:8])

    screen.notify(text, title=text)
    notify_error(screen, ProviderError(text))
    await shows(pilot, short)


@pytest.mark.parametrize("name", STORABLE)
async def test_a_turn_with_hostile_text_everywhere(user_env, openai_fake, tmp_path, name: str) -> None:  # type: ignore[no-untyped-def]
    """The prompt, the streamed reply and its thinking, tool calls (a hostile name, hostile
    arguments and results), the approval modal and a provider's error: all hostile."""
    text, marker = STORABLE[name], MARKERS[name]
    short = marker[:12]
    workspace = tmp_path / "ws"
    workspace.mkdir()
    config = write_config(user_env, openai=openai_fake)
    calls = [
        ("c1", "read_file", {"path": text}),
        ("c2", f"t{text}", {"q": text}),
        ("c3", "write_file", {"path": "out.txt", "content": text}),
    ]
    openai_fake.queue(
        gpt_tools(calls, text=f"narration {text}"),
        gpt_text([f"reply {text[:7]}", text[7:]], reasoning=[f"think {text[:3]}", text[3:]]),
        gpt_error(400, text),
    )
    app = make_app(user_env, config, workspace=workspace)
    async with app.run_test(size=TALL, notifications=True) as pilot:
        await ready(pilot)
        await send(pilot, text)
        await wait_for_text(pilot, "Allow the tool write_file?")
        await shows(pilot, short)
        await pilot.press("n")
        await settle(pilot)
        await shows(pilot, "⊘ write_file · denied")
        await expand_all(pilot)
        app.screen.view.scroll_home(animate=False)
        await shows(pilot, marker)
        app.screen.view.boxes()[-1].scroll_visible(top=True, animate=False)
        await shows(pilot, "think" if name == "long" else f"think {clean(text)}"[:30])  # "long" wraps
        await send(pilot, "again")
        await settle(pilot)
        await shows(pilot, "Error")
    assert not (workspace / "out.txt").exists()


async def test_hostile_titles_at_startup_in_search_and_dialogs(user_env, openai_fake) -> None:  # type: ignore[no-untyped-def]
    """A title with markup made the app exit at every start; the search lists titles and snippets,
    the rename and delete dialogs quote the title."""
    config = write_config(user_env, openai=openai_fake)
    app = make_app(user_env, config)
    for name, text in STORABLE.items():
        conversation = app.store.create_conversation(title=text)
        app.store.add_message(conversation, Message.user(f"needle{name} {text}"))
    async with app.run_test(size=TALL, notifications=True) as pilot:
        await ready(pilot)
        await shows(pilot, *(MARKERS[n][:12] for n in STORABLE if n != "long"))
        sidebar = app.screen.query_one(Sidebar)
        for name in ("controls", "osc", "markup"):  # the last one stays open
            await pilot.press("ctrl+f")
            sidebar.search.value = f"needle{name}"  # as typed, without a pause per key
            await pilot.press("enter")
            await settle(pilot)
            await shows(pilot, MARKERS[name][:12], f"needle{name}")
            await pilot.press("enter")  # open the hit
            await settle(pilot)
            await shows(pilot, f"needle{name} {MARKERS[name]}")
            sidebar.action_clear_search()
        app.screen.rename(app.screen.conversation_id)
        await shows(pilot)
        await pilot.press("escape")
        app.screen.delete(app.screen.conversation_id)
        await shows(pilot)
        await pilot.press("n")
        await shows(pilot)


async def test_hostile_model_names_from_discovery(user_env, openai_fake) -> None:  # type: ignore[no-untyped-def]
    """A provider lists a model named with markup and escapes; the user picks it: the picker, the
    bar, the provider notification, the reply's label and the usage statistics show it as text."""
    hostile = STORABLE["markup"] + STORABLE["osc"]
    openai_fake.models = [hostile]
    openai_fake.queue(gpt_text(["fine"]))
    config = write_config(user_env, openai=openai_fake)
    app = make_app(user_env, config)
    async with app.run_test(size=TALL, notifications=True) as pilot:
        await ready(pilot)
        await pilot.press("ctrl+l")
        await settle(pilot)
        await pilot.press(*"INST")
        await shows(pilot, "[/b] [/] [/INST]")
        await pilot.press("enter")
        await settle(pilot)
        await shows(pilot, "[/b] [/] [/INST]")
        await send(pilot, "hi")
        await settle(pilot)
        await shows(pilot, "fine", "openai · [/b] [/] [/INST]")
        await pilot.press("f6")
        await settle(pilot)
        await shows(pilot, "[/b] [/]")


MARKDOWN = (
    "# [/b] heading [@click=app.quit]q[/]\n\n"
    "[web](https://example.com/a) [scheme](vscode://file/etc/passwd) [action](app.quit) "
    "[quote](x'\\),app.quit\\('y) [file](file:///etc/passwd) <https://auto.example/> ![img](javascript:alert)\n\n"
    "<script>alert(1)</script>\n\n**[bold red]not a style[/]** <b>html</b> \x1b]0;pwned\x07tail\n\n"
    "| [/] | [link=x]y[/link] |\n|---|---|\n| `[/b]` | \x1b[2Jcell |\n\n"
    "```\n[/INST] \x1b]52;c;cHduZWQ=\x07code\n```\n"
)


async def test_markdown_in_a_reply_renders_and_only_web_links_open(user_env, openai_fake) -> None:  # type: ignore[no-untyped-def]
    """Textual's Markdown is not console markup, but a reply's links become click actions: none
    may run an app action or open a custom scheme's handler."""
    config = write_config(user_env, openai=openai_fake)
    openai_fake.queue(gpt_text([MARKDOWN[i : i + 9] for i in range(0, len(MARKDOWN), 9)]))
    app = make_app(user_env, config)
    opened: list[str] = []
    app.open_url = lambda url, **kwargs: opened.append(url)  # type: ignore[method-assign]
    async with app.run_test(size=TALL, notifications=True) as pilot:
        await ready(pilot)
        await send(pilot, "links")
        await settle(pilot)
        await shows(
            pilot, "[/b] heading [@click=app.quit]q[/]", "[bold red]not a style[/]", "[/INST] code", "cell"
        )
        actions = []
        for block in app.screen.query_one(ReplyMarkdown).query(MarkdownBlock):
            content = block.content  # a text block's Content; a container block's is empty
            for span in content.spans if isinstance(content, Content) else []:
                if isinstance(span.style, Style) and "@click" in span.style.meta:
                    actions.append((block, span.style.meta["@click"]))
        assert len(actions) >= 4
        for block, action in actions:  # what a click on each link runs
            await block.run_action(action)
        await shows(pilot, "not opened")
    assert opened == ["https://example.com/a", "https://auto.example/"]
