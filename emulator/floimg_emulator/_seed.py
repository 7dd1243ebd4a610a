"""The workflows and the project every account starts with."""

from __future__ import annotations

from typing import Any

from ._records import ProjectRecord, WorkflowRecord

DEFAULT_PROJECT = "proj_default"
#: A fixed creation time for seeded rows, so every account and every restart agree.
SEED_TIME = 1767225600.0  # 2026-01-01T00:00:00Z

_DIM: dict[str, Any] = {"type": "number", "required": False, "min": 1, "max": 4096}
_IMAGE_ID: dict[str, Any] = {
    "name": "imageId",
    "type": "string",
    "required": True,
    "default": None,
    "kind": "imageId",
    "description": "Id of an uploaded image (img_…)",
}

#: The named workflows every account has, in listing order.
WORKFLOWS: list[dict[str, Any]] = [
    {
        "id": "wf_social_card",
        "name": "Social card",
        "description": "Generate an Open Graph / social card: a gradient with your text on it.",
        "parameters": [
            {"name": "prompt", "type": "string", "required": True, "default": None},
            {"name": "width", **_DIM, "default": 1200},
            {"name": "height", **_DIM, "default": 630},
            {
                "name": "theme",
                "type": "string",
                "required": False,
                "default": "ocean",
                "enum": ["ocean", "sunset", "forest", "mono", "candy"],
            },
        ],
        "steps": [
            {
                "op": "shapes",
                "shape": "rectangle",
                "fill": "gradient",
                "width": {"param": "width"},
                "height": {"param": "height"},
                "theme": {"param": "theme"},
            },
            {"op": "addText", "text": "{prompt}", "size": "auto", "position": "center"},
            {"op": "save", "format": "png"},
        ],
    },
    {
        "id": "wf_thumbnail",
        "name": "Thumbnail",
        "description": "Make a square WebP thumbnail of an uploaded image (resize, fit cover).",
        "parameters": [
            _IMAGE_ID,
            {
                "name": "size",
                "type": "number",
                "required": False,
                "default": 256,
                "min": 1,
                "max": 2048,
            },
        ],
        "steps": [
            {"op": "load", "image": {"param": "imageId"}},
            {
                "op": "resize",
                "width": {"param": "size"},
                "height": {"param": "size"},
                "fit": "cover",
            },
            {"op": "convert", "format": "webp"},
            {"op": "save"},
        ],
    },
    {
        "id": "wf_captioned_photo",
        "name": "Captioned photo",
        "description": "Add a caption band to the top or bottom of an uploaded image.",
        "parameters": [
            _IMAGE_ID,
            {"name": "caption", "type": "string", "required": True, "default": None},
            {
                "name": "position",
                "type": "string",
                "required": False,
                "default": "bottom",
                "enum": ["top", "bottom"],
            },
        ],
        "steps": [
            {"op": "load", "image": {"param": "imageId"}},
            {"op": "addCaption", "text": "{caption}", "position": {"param": "position"}},
            {"op": "save", "format": "png"},
        ],
    },
    {
        "id": "wf_flaky",
        "name": "Fails on purpose",
        "description": (
            "Renders a small card, but fails when `fail` is true or when `prompt` contains "
            "the word 'fail' (any case): use it to test failure handling."
        ),
        "parameters": [
            {"name": "prompt", "type": "string", "required": False, "default": "hello"},
            {"name": "fail", "type": "boolean", "required": False, "default": False},
        ],
        "steps": [
            {"op": "shapes", "width": 320, "height": 160, "fill": "gradient", "theme": "sunset"},
            {
                "op": "fail",
                "when": {"param": "fail"},
                "ifContains": {"text": "{prompt}", "word": "fail"},
                "message": "Workflow failed on purpose (wf_flaky was asked to fail)",
            },
            {"op": "addText", "text": "{prompt}", "size": 32},
            {"op": "save", "format": "png"},
        ],
    },
    {
        "id": "wf_showcase",
        "name": "Transform showcase",
        "description": (
            "Exercise every transform: gradient circle, blur, crop, optional grayscale, "
            "rounded corners, caption, and a choice of output format."
        ),
        "parameters": [
            {"name": "width", **_DIM, "default": 400},
            {"name": "height", **_DIM, "default": 300},
            {
                "name": "blur",
                "type": "number",
                "required": False,
                "default": 2,
                "min": 0,
                "max": 50,
            },
            {"name": "grayscale", "type": "boolean", "required": False, "default": False},
            {
                "name": "format",
                "type": "string",
                "required": False,
                "default": "png",
                "enum": ["png", "jpeg", "webp"],
            },
            {"name": "label", "type": "string", "required": False, "default": "FloImg"},
        ],
        "steps": [
            {
                "op": "shapes",
                "shape": "circle",
                "fill": "gradient",
                "theme": "candy",
                "background": "#1e293b",
                "width": {"param": "width"},
                "height": {"param": "height"},
            },
            {"op": "blur", "radius": {"param": "blur"}},
            {
                "op": "extract",
                "left": 10,
                "top": 10,
                "width": {"sub": [{"param": "width"}, 20]},
                "height": {"sub": [{"param": "height"}, 20]},
            },
            {"op": "grayscale", "if": {"param": "grayscale"}},
            {"op": "roundCorners", "radius": 24},
            {"op": "addCaption", "text": "{label}", "position": "top"},
            {"op": "convert", "format": {"param": "format"}},
            {"op": "save"},
        ],
    },
]


def _generated(n: int) -> dict[str, Any]:
    hue = ["#ef4444", "#f59e0b", "#10b981", "#3b82f6", "#8b5cf6", "#ec4899"][n % 6]
    return {
        "id": f"wf_gen_{n:04d}",
        "name": f"Generated workflow {n}",
        "description": "A simple solid square, seeded for pagination tests.",
        "parameters": [
            {"name": "color", "type": "string", "required": False, "default": hue},
            {"name": "size", **_DIM, "default": 64},
        ],
        "steps": [
            {
                "op": "shapes",
                "fill": "solid",
                "color": {"param": "color"},
                "width": {"param": "size"},
                "height": {"param": "size"},
            },
            {"op": "save", "format": "png"},
        ],
    }


def seed_records(
    account: str, extra_workflows: int
) -> tuple[list[ProjectRecord], list[WorkflowRecord]]:
    """Return the default project and workflows of ``account`` (plus N generated ones)."""
    project = ProjectRecord(
        id=DEFAULT_PROJECT,
        account=account,
        name="Default project",
        description="Created with the account",
        created_at=SEED_TIME,
    )
    definitions = WORKFLOWS + [_generated(n) for n in range(1, extra_workflows + 1)]
    workflows = [
        WorkflowRecord(
            id=d["id"],
            account=account,
            name=d["name"],
            description=d["description"],
            project_id=DEFAULT_PROJECT,
            parameters=d["parameters"],
            steps=d["steps"],
            created_at=SEED_TIME + i,
            updated_at=SEED_TIME + i,
        )
        for i, d in enumerate(definitions)
    ]
    return [project], workflows
