"""Compile a flow's intents into a Rasa 3.x NLU project: nlu.yml, config.yml, domain.yml.

The output is a pure function of the parts of the flow that change what Rasa learns: intent
examples, the languages, and the escalation thresholds baked into the FallbackClassifier.
Prompts and labels are not part of it, so editing what the bot *says* never retrains a model.

    project = compile_nlu_project(flow)
    project.fingerprint  # names the trained model in the cache
    project.files["nlu.yml"]
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from bot.flow.model import Flow, annotated_entities
from bot.text import nlu_text

#: The Rasa release the project is written for; part of the fingerprint, so an upgrade retrains.
RASA_VERSION = "3.6.21"

#: DIET epochs. The first epoch costs about a minute of graph tracing whatever the size;
#: about 250 examples then need roughly a second per epoch on two cores, and reach
#: 99% training accuracy by epoch 15. 40 leaves margin (see docs/benchmarks.md).
DEFAULT_EPOCHS = 40

#: Fixed so that the same flow always trains the same model.
RANDOM_SEED = 42

#: Rasa wants an assistant id; a fixed one keeps ``config.yml`` (and the fingerprint) stable.
ASSISTANT_ID = "ivr-phone-line"

#: The order files are hashed and written in.
FILE_NAMES = ("config.yml", "domain.yml", "nlu.yml")


@dataclass(frozen=True)
class NLUProject:
    """A Rasa NLU project as text: ``files`` maps a file name to its content."""

    files: Mapping[str, str]
    fingerprint: str
    language: str
    intents: tuple[str, ...]
    entities: tuple[str, ...]

    @property
    def model_name(self) -> str:
        """The trained model's file name (``rasa train --fixed-model-name`` + ``.tar.gz``)."""
        return f"{self.fingerprint}.tar.gz"


def compile_nlu_project(flow: Flow, *, epochs: int = DEFAULT_EPOCHS) -> NLUProject:
    """Build the Rasa project for ``flow``; ``epochs`` trades training time for accuracy."""
    examples = {name: _examples(intent.examples) for name, intent in flow.intents.items()}
    intents = tuple(sorted(examples))
    entities = tuple(
        sorted(
            {
                name
                for lines in examples.values()
                for line in lines
                for name in annotated_entities(line)
            }
        )
    )
    files = {
        "config.yml": _config_yml(flow, epochs),
        "domain.yml": _domain_yml(intents, entities),
        "nlu.yml": _nlu_yml({name: examples[name] for name in intents}),
    }
    return NLUProject(
        files=files,
        fingerprint=fingerprint(files),
        language=flow.default_language,
        intents=intents,
        entities=entities,
    )


def fingerprint(files: Mapping[str, str]) -> str:
    """sha256 over the Rasa version and every file (name and content), in a fixed order."""
    digest = hashlib.sha256(f"rasa=={RASA_VERSION}\n".encode())
    for name in sorted(files):
        content = files[name].encode()
        # Length-prefixed so no two different projects can hash the same byte stream.
        digest.update(f"{name}\n{len(content)}\n".encode())
        digest.update(content)
    return digest.hexdigest()


def _examples(by_language: Mapping[str, Iterable[str]]) -> tuple[str, ...]:
    # All languages go into one model, folded as the client folds what it parses (one line
    # break inside an example would break the YAML block); duplicates and order change nothing.
    cleaned = {nlu_text(text) for lines in by_language.values() for text in lines}
    return tuple(sorted(text for text in cleaned if text))


def _quote(value: str) -> str:
    # JSON strings are valid YAML double-quoted scalars.
    return json.dumps(value, ensure_ascii=False)


def _nlu_yml(examples: Mapping[str, tuple[str, ...]]) -> str:
    lines = [f'version: "{_RASA_FORMAT}"', "nlu:"]
    for name, texts in examples.items():
        lines += [f"- intent: {name}", "  examples: |"]
        lines += [f"    - {text}" for text in texts]
    return "\n".join(lines) + "\n"


def _domain_yml(intents: tuple[str, ...], entities: tuple[str, ...]) -> str:
    lines = [f'version: "{_RASA_FORMAT}"', "intents:"]
    lines += [f"  - {name}" for name in intents]
    lines += ["entities:" + ("" if entities else " []")]
    lines += [f"  - {name}" for name in entities]
    return "\n".join(lines) + "\n"


def _config_yml(flow: Flow, epochs: int) -> str:
    escalation = flow.escalation
    return "\n".join(
        [
            "recipe: default.v1",
            f"assistant_id: {ASSISTANT_ID}",
            f"language: {_quote(flow.default_language)}",
            "pipeline:",
            "  - name: WhitespaceTokenizer",
            "  - name: RegexFeaturizer",
            "  - name: LexicalSyntacticFeaturizer",
            "  - name: CountVectorsFeaturizer",
            "  - name: CountVectorsFeaturizer",
            "    analyzer: char_wb",
            "    min_ngram: 1",
            "    max_ngram: 4",
            "  - name: DIETClassifier",
            f"    epochs: {epochs}",
            f"    random_seed: {RANDOM_SEED}",
            "    constrain_similarities: true",
            "  - name: EntitySynonymMapper",
            "  - name: FallbackClassifier",
            f"    threshold: {escalation.confidence_threshold!r}",
            f"    ambiguity_threshold: {escalation.margin!r}",
            "policies: []",
            "",
        ]
    )


_RASA_FORMAT = "3.1"
