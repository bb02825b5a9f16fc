"""``equiforce learn``: the active-learning loop from a YAML config."""
from __future__ import annotations

import argparse
import dataclasses


def _learn(args: argparse.Namespace) -> int:
    from .learn import LearnConfig, learn

    config = LearnConfig.from_yaml(args.config)
    if args.rounds is not None:
        config = dataclasses.replace(config, rounds=args.rounds)
    result = learn(config, progress=not args.no_progress)
    print((result.workdir / "report.md").read_text(), end="")
    print(f"committee after round {result.rounds[-1]['round']}: "
          + " ".join(str(path) for path in result.members))
    print(f"report: {result.workdir / 'report.json'}, plots: {result.workdir}/*.png")
    return 0


def add_learn_command(commands) -> None:
    """Register ``learn`` on an argparse sub-parser group."""
    learner = commands.add_parser(
        "learn", help="active learning: committee MD explores, uncertain frames are labelled "
                      "and the committee retrained, round by round (resumable)")
    learner.add_argument("config", help="YAML file: workdir, rounds, committee, explore, "
                                        "select, label, test_path (docs/learn.md)")
    learner.add_argument("--rounds", type=int, help="rounds after round 0 (overrides the "
                                                    "config; raise it to continue a loop)")
    learner.add_argument("--no-progress", action="store_true")
    learner.set_defaults(func=_learn)
