"""Attaching files to the next prompt, for the main screen: the `@` picker, pasted paths, ctrl+v
with an image on the clipboard, and reading the chips into the parts a turn sends.

The chips are the screen's (`AttachmentBar`); files are read in a thread (a big PDF must not
hold up typing), and whatever cannot be attached is a notification naming it, the chips as they
were. Owned by the screen (`screen.attach`), as the route is by `RouteControl`.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from agentchat.core.errors import AgentchatError
from agentchat.tools.mcp.context import resources_of
from agentchat.tui.attachments import CLIPBOARD_NAME, Attachment, attach_bytes, attach_file, read_for_turn
from agentchat.tui.clipboard import NoClipboardTool
from agentchat.tui.errors import notify_error
from agentchat.tui.screens.file_picker import FilePicker

if TYPE_CHECKING:
    from pathlib import Path

    from agentchat.core.messages import AttachmentPart
    from agentchat.tui.screens.main import MainScreen


class AttachControl:
    def __init__(self, screen: MainScreen) -> None:
        self.screen = screen

    @property
    def workspace(self) -> Path:
        return self.screen.app.workspace

    def pick(self) -> None:
        """The `@` picker; a cancelled pick puts the `@` in the prompt (it was meant as text)."""
        screen = self.screen
        attached = {a.source for a in screen.chips.attachments if a.source is not None}

        def done(path: str | None) -> None:
            if path is None:
                screen.prompt.insert("@")
            else:
                self.add_files([path])
            screen.prompt.focus()

        mcp = screen.app.mcp
        resources = [entry.ref for entry in resources_of(mcp)] if mcp is not None else []
        screen.app.push_screen(FilePicker(self.workspace, attached, resources), done)

    def add_files(self, sources: list[str]) -> None:
        self.screen.run_worker(self._add_files(sources), group="attach", exit_on_error=False)

    async def _add_files(self, sources: list[str]) -> None:
        screen = self.screen
        for source in sources:
            if screen.chips.holds(source):
                screen.notify(f"{source} is attached already", timeout=3)
                continue
            try:
                attachment = await asyncio.to_thread(attach_file, source, screen.app.config, self.workspace)
            except AgentchatError as exc:  # missing, unreadable, too big, broken, unknown type
                notify_error(screen, exc, timeout=8)
                continue
            await screen.chips.add(attachment)

    def paste_image(self) -> None:
        self.screen.run_worker(self._paste_image(), group="attach", exit_on_error=False)

    async def _paste_image(self) -> None:
        """The clipboard's image as a chip. Without one, ctrl+v does what it did before: paste
        the text last copied in the app (a terminal's own paste never comes as ctrl+v)."""
        screen = self.screen
        app = screen.app
        try:
            data = await asyncio.to_thread(app.clipboard_image)
        except NoClipboardTool as exc:
            screen.notify(str(exc), title="Clipboard", severity="warning", timeout=8)
            data = None
        else:
            if data is None and not app.clipboard:
                screen.notify("the clipboard holds no image", title="Clipboard", timeout=3)
        if data is None:
            screen.prompt.paste_copied()
            return
        try:
            attachment = await asyncio.to_thread(attach_bytes, CLIPBOARD_NAME, data, app.config)
        except AgentchatError as exc:  # an image type agentchat cannot send, or over the limit
            notify_error(screen, exc, timeout=8)
            return
        if screen.chips.holds(attachment.key):
            screen.notify("that image is attached already", timeout=3)
            return
        await screen.chips.add(attachment)

    async def read(self, attached: list[Attachment]) -> list[AttachmentPart]:
        """The parts a turn sends (files read as they are now). AgentchatError: one line."""
        if not attached:
            return []
        return await asyncio.to_thread(read_for_turn, attached, self.screen.app.config, self.workspace)
