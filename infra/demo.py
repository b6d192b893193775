"""A small demo project for `labelstack dev --demo`: sentiment classification of product reviews."""

from __future__ import annotations

from functions.domain.records import User
from functions.services import importing, ml_backends, projects

CONFIG = """<View>
  <Text name="text" value="$text"/>
  <Choices name="sentiment" toName="text" choice="single" showInLine="true">
    <Choice value="Positive"/>
    <Choice value="Negative"/>
    <Choice value="Neutral"/>
  </Choices>
</View>"""

REVIEWS = [
    "I love this product, it works perfectly.",
    "Terrible support, never again.",
    "It arrived on Tuesday.",
    "Pretty good overall, but the battery could last longer.",
    "Broke after two days. Very disappointed.",
    "Exactly as described and fast shipping.",
    "The manual is in English and French.",
    "Worst purchase I have made this year.",
    "Great value for the price!",
    "The box was blue.",
]


def load_demo(admin: User, model_url: str | None = None) -> int:
    """The demo project, with the built-in model server at `model_url` connected as its ML backend."""
    project = projects.create_project(
        admin,
        {
            "title": "Demo: review sentiment",
            "label_config": CONFIG,
            "description": "Classify each product review as positive, negative or neutral.",
            "expert_instruction": "<p>Pick the sentiment the writer expresses about the product.</p>",
        },
    )
    tasks = [{"data": {"text": text}} for text in REVIEWS]
    tasks[1]["predictions"] = [
        {
            "model_version": "demo-v0",
            "score": 0.91,
            "result": [
                {
                    "from_name": "sentiment",
                    "to_name": "text",
                    "type": "choices",
                    "value": {"choices": ["Negative"]},
                }
            ],
        }
    ]
    importing.import_tasks(admin, project.id, tasks)
    if model_url:
        ml_backends.create(
            admin,
            {
                "project": project.id,
                "url": model_url,
                "title": "Built-in text classifier",
                "is_interactive": False,
            },
        )
    return project.id
