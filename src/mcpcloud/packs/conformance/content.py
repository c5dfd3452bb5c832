"""Tools that return each content type, plus the suite's resources, prompts and completions."""

from __future__ import annotations

import json

from mcp.server.mcpserver import UserMessage
from mcp.server.mcpserver.exceptions import ToolError
from mcp_types import (
    AudioContent,
    Completion,
    CompletionArgument,
    CompletionContext,
    EmbeddedResource,
    ImageContent,
    PromptReference,
    ResourceTemplateReference,
    TextContent,
    TextResourceContents,
    ToolAnnotations,
)

from mcpcloud.packs import PackContext
from mcpcloud.packs.conformance.media import b64, red_pixel_png, silent_wav

READ_ONLY = ToolAnnotations(read_only_hint=True, destructive_hint=False, idempotent_hint=True, open_world_hint=False)

# Values offered by completion/complete, per argument name.
COMPLETIONS: dict[str, tuple[str, ...]] = {
    "arg1": ("paris", "park", "party", "test", "testing"),
    "arg2": ("world", "word", "work"),
    "id": ("1", "123", "42"),
}


def _image() -> ImageContent:
    return ImageContent(type="image", data=b64(red_pixel_png()), mime_type="image/png")


def _embedded(uri: str, text: str, mime_type: str = "text/plain") -> EmbeddedResource:
    return EmbeddedResource(type="resource", resource=TextResourceContents(uri=uri, mime_type=mime_type, text=text))


def register(ctx: PackContext) -> None:
    _register_tools(ctx)
    _register_resources(ctx)
    _register_prompts(ctx)
    _register_completions(ctx)


def _register_tools(ctx: PackContext) -> None:
    # Content-block tools publish no output schema: their result *is* the content.
    content_tool = ctx.tool(annotations=READ_ONLY, structured_output=False)

    @ctx.tool(annotations=READ_ONLY)
    def test_simple_text() -> str:
        """Return one fixed text block."""
        return "This is a simple text response for testing."

    @content_tool
    def test_image_content() -> list[ImageContent]:
        """Return a 1x1 PNG as an image content block."""
        return [_image()]

    @content_tool
    def test_audio_content() -> list[AudioContent]:
        """Return a tiny WAV as an audio content block."""
        return [AudioContent(type="audio", data=b64(silent_wav()), mime_type="audio/wav")]

    @content_tool
    def test_embedded_resource() -> list[EmbeddedResource]:
        """Return an embedded text resource."""
        return [_embedded("test://embedded-resource", "This is an embedded resource content.")]

    @content_tool
    def test_multiple_content_types() -> list[TextContent | ImageContent | EmbeddedResource]:
        """Return text, image and embedded-resource blocks in one result."""
        return [
            TextContent(type="text", text="Multiple content types test:"),
            _image(),
            _embedded(
                "test://mixed-content-resource",
                json.dumps({"test": "data", "value": 123}),
                mime_type="application/json",
            ),
        ]

    @ctx.tool(annotations=READ_ONLY)
    def test_error_handling() -> str:
        """Always fail, as a tool error (`isError: true`) whose text says why."""
        raise ToolError("This tool intentionally returns an error for testing")


def _register_resources(ctx: PackContext) -> None:
    @ctx.resource("test://static-text", name="static_text", mime_type="text/plain")
    def static_text() -> str:
        """A fixed text resource."""
        return "This is the content of the static text resource."

    @ctx.resource("test://static-binary", name="static_binary", mime_type="image/png")
    def static_binary() -> bytes:
        """A fixed binary resource (a 1x1 PNG)."""
        return red_pixel_png()

    @ctx.resource("test://template/{id}/data", name="template_data", mime_type="application/json")
    def template_data(id: str) -> str:  # noqa: A002 - the template variable is named by the suite
        """JSON data for the given id, substituted from the URI template."""
        return json.dumps({"id": id, "templateTest": True, "data": f"Data for ID: {id}"})

    @ctx.resource("test://watched-resource", name="watched_resource", mime_type="text/plain")
    def watched_resource() -> str:
        """A resource clients may subscribe to."""
        return "Watched resource content"


def _register_prompts(ctx: PackContext) -> None:
    @ctx.prompt()
    def test_simple_prompt() -> list[UserMessage]:
        """A prompt without arguments."""
        return [UserMessage("This is a simple prompt for testing.")]

    @ctx.prompt()
    def test_prompt_with_arguments(arg1: str, arg2: str) -> list[UserMessage]:
        """A prompt with two required arguments substituted into its text."""
        return [UserMessage(f"Prompt with arguments: arg1='{arg1}', arg2='{arg2}'")]

    @ctx.prompt()
    def test_prompt_with_embedded_resource(resourceUri: str) -> list[UserMessage]:  # noqa: N803 - named by the suite
        """A prompt that embeds the resource named by `resourceUri`."""
        return [
            UserMessage(_embedded(resourceUri, "Embedded resource content for testing.")),
            UserMessage("Please process the embedded resource above."),
        ]

    @ctx.prompt()
    def test_prompt_with_image() -> list[UserMessage]:
        """A prompt that carries an image."""
        return [UserMessage(_image()), UserMessage("Please analyze the image above.")]


def _register_completions(ctx: PackContext) -> None:
    @ctx.completion()
    async def complete(
        ref: PromptReference | ResourceTemplateReference,
        argument: CompletionArgument,
        context: CompletionContext | None,
    ) -> Completion:
        values = [v for v in COMPLETIONS.get(argument.name, ()) if v.startswith(argument.value)]
        return Completion(values=values, total=len(values), has_more=False)
