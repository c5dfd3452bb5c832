"""A corpus written for the vector tests: 300 short texts on six clearly distinct topics.

Each text is built from a topic's own subjects and sentence frames, so the right neighbours
of a query about a topic are exactly that topic's documents.
"""

from __future__ import annotations

TOPICS: dict[str, tuple[list[str], list[str]]] = {
    "cooking": (
        [
            "sourdough bread",
            "tomato soup",
            "roast chicken",
            "chocolate cake",
            "vegetable curry",
            "fresh pasta",
            "pancakes",
            "grilled salmon",
            "mushroom risotto",
            "apple pie",
        ],
        [
            "A simple recipe for {s} that you can cook at home tonight.",
            "How long to bake or simmer {s} and which spices to add.",
            "Chefs explain the ingredients you need for {s}.",
            "My grandmother's kitchen secret for perfect {s}.",
            "Serve {s} warm with a side dish for dinner.",
        ],
    ),
    "astronomy": (
        [
            "the Andromeda galaxy",
            "Jupiter's moons",
            "a supernova",
            "black holes",
            "the rings of Saturn",
            "a comet",
            "the Milky Way",
            "red dwarf stars",
            "exoplanets",
            "a solar eclipse",
        ],
        [
            "Telescopes reveal new details about {s}.",
            "Astronomers measured the distance to {s} in light years.",
            "What {s} teaches us about the origin of the universe.",
            "Observing {s} in the night sky through a telescope.",
            "Space probes sent back images of {s}.",
        ],
    ),
    "football": (
        [
            "the penalty shootout",
            "the World Cup final",
            "a hat-trick",
            "the offside rule",
            "the goalkeeper",
            "the Champions League",
            "a red card",
            "the transfer window",
            "the league table",
            "a corner kick",
        ],
        [
            "Fans in the stadium cheered during {s}.",
            "The coach talked about {s} after the match.",
            "Highlights of {s} from last night's game.",
            "The striker scored a goal thanks to {s}.",
            "Referees and players argued about {s}.",
        ],
    ),
    "programming": (
        [
            "a Python decorator",
            "a memory leak",
            "unit tests",
            "a race condition",
            "the garbage collector",
            "a SQL index",
            "recursion",
            "a merge conflict in git",
            "type hints",
            "an HTTP API",
        ],
        [
            "Debugging {s} in production code.",
            "How to write {s} so the program compiles and runs faster.",
            "Developers discuss {s} in a code review.",
            "A tutorial on {s} for software engineers.",
            "The function failed because of {s}.",
        ],
    ),
    "gardening": (
        [
            "tomato seedlings",
            "rose bushes",
            "compost",
            "tulip bulbs",
            "an herb garden",
            "fruit trees",
            "lawn moss",
            "raised beds",
            "aphids on leaves",
            "potted orchids",
        ],
        [
            "When to plant and water {s} in spring.",
            "Gardeners recommend pruning {s} every year.",
            "Soil, sunlight and fertilizer for healthy {s}.",
            "Protecting {s} from frost and garden pests.",
            "Growing {s} in the backyard.",
        ],
    ),
    "finance": (
        [
            "interest rates",
            "the stock market",
            "a mortgage",
            "inflation",
            "a retirement fund",
            "government bonds",
            "the central bank",
            "a credit card debt",
            "dividends",
            "a tax return",
        ],
        [
            "Investors worry about {s} this quarter.",
            "Economists explain how {s} affects your savings.",
            "Banks changed their policy on {s}.",
            "How to budget money around {s}.",
            "The price of shares moved after news about {s}.",
        ],
    ),
}

QUERIES = {
    "cooking": "what should I make for dinner, a tasty dish to bake",
    "astronomy": "stars and planets seen through a telescope",
    "football": "soccer match result and the players on the pitch",
    "programming": "fixing a bug in my source code",
    "gardening": "how to grow plants and flowers in the garden",
    "finance": "saving money and investing in shares",
}


def documents() -> list[dict[str, object]]:
    docs = []
    for topic, (subjects, frames) in TOPICS.items():
        for i, subject in enumerate(subjects):
            for j, frame in enumerate(frames):
                docs.append(
                    {
                        "id": f"{topic}-{i}-{j}",
                        "text": frame.format(s=subject),
                        "metadata": {"topic": topic, "n": i * 5 + j},
                    }
                )
    return docs
