"""SASRec-style next-item recommender behind the common contract (the model: ``sasrec_net``).

``fit`` trains with validation-based early stopping on NDCG@10 (full ranking), a warm-up +
cosine learning-rate schedule, a wall-clock budget, progress logging and optional
safetensors checkpoints. Any history can be scored: a known user's or an anonymous session's.
"""

from __future__ import annotations

import copy
import logging
import math
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F

from mercato.errors import InvalidInput
from mercato.recommend.allocator import keep_freed_memory_for_reuse
from mercato.recommend.base import Recommender
from mercato.recommend.checkpoint import save_checkpoint
from mercato.recommend.interactions import Interactions
from mercato.recommend.sasrec_data import (
    attribute_csr,
    left_pad,
    length_bucketed_batches,
    split_validation,
    training_windows,
)
from mercato.recommend.sasrec_net import SASRecNet, sequence_recency, trace_single_sequence_scorer

log = logging.getLogger("mercato.train")
SERVING_WIDTHS = (16, 64)  # items: traced serving graphs shorter than max_len (which always has one)

VALID_MODES = ("last_item", "tail", "none")
LOSSES = ("ce", "sampled")
# Where sampled-softmax negatives come from: uniformly over the catalog, or half uniformly and
# half by training frequency (mixed; popular items are the hard negatives a uniform draw from
# a long-tail catalog rarely picks). Scores are logQ-corrected either way, so the sampled loss
# stays an estimate of the full softmax (Bengio & Senécal 2008; Yi et al. 2019).
SAMPLINGS = ("uniform", "mixed")
POSITIONS = ("from_start", "from_end")  # what a position embedding counts, see SASRecNet.forward
READOUTS = ("state", "item_mix")  # what a sequence state is, see SASRecNet.forward
PRECISIONS = ("fp32", "bf16")  # of training's matrix products; serving is always float32
# The refit's learning rate: the validated run's schedule replayed up to the chosen epoch (where
# it may still be high), or a complete warm-up + cosine schedule that reaches zero at that epoch.
REFIT_SCHEDULES = ("replay", "complete")
# The constants ``repeat_boost="auto"`` chooses from, in score units (with cosine scores over a
# temperature of 0.07 an item's score spans about ±14).
REPEAT_BOOST_GRID = (0.0, 0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 8.0)
# The weights ``trend_weight="auto"`` chooses from, per unit of log(1 + recent clicks).
TREND_WEIGHT_GRID = (0.0, 0.1, 0.2, 0.3, 0.4, 0.6)


class SASRecRecommender(Recommender):
    name = "sasrec"

    def __init__(
        self,
        *,
        max_len: int = 50,
        dim: int = 64,
        layers: int = 2,
        heads: int = 1,
        dropout: float = 0.5,
        loss: str = "ce",
        negatives: int = 256,
        sampling: str = "uniform",
        temperature: float | None = None,
        repeat_bias: bool = False,
        repeat_boost: float | str | None = None,
        trend_weight: float | str | None = None,
        trend_fraction: float = 0.2,
        precision: str = "fp32",
        positions: str = "from_start",
        readout: str = "state",
        lr: float = 1e-3,
        weight_decay: float = 0.0,
        ema_decay: float | None = None,
        refit: bool = False,
        refit_schedule: str = "replay",
        recent_fraction: float = 0.0,
        recent_copies: int = 2,
        batch_size: int = 128,
        max_epochs: int = 200,
        warmup_epochs: float = 1.0,
        patience: int = 5,
        eval_every: int = 2,
        max_minutes: float | None = None,
        valid_mode: str = "last_item",
        valid_fraction: float = 0.1,
        valid_max_cases: int = 10_000,
        valid_exclude_seen: bool = True,
        item_attributes: dict[str, list[str]] | None = None,
        fine_tune_lr: float = 1e-4,
        fine_tune_epochs: int = 1,
        checkpoint_dir: str | None = None,
        device: str = "auto",
        threads: int | None = None,
        random_state: int = 0,
    ) -> None:
        params = dict(locals())
        del params["self"], params["__class__"]
        super().__init__(**params)
        self._net: SASRecNet | None = None
        self._popularity: np.ndarray | None = None  # (n_items,) cold-start answer for empty histories
        self._attr_arrays: tuple[np.ndarray, np.ndarray] | None = None
        # Item vectors for inference, computed once per weight change (with side features they
        # cost an EmbeddingBag pass over the whole catalog); None after any update.
        self._table: torch.Tensor | None = None
        self._unit_np: np.ndarray | None = None
        self._scorer: list[tuple[int, torch.jit.ScriptModule]] | None = None  # (width, traced graph), see _prepare_serving
        self._sampler: tuple[np.ndarray, torch.Tensor] | None = None  # negatives' (CDF, log q), see _negative_sampler
        self.best_epoch = 0  # the epoch validation chose (0: none)
        # Scoring priors chosen on held-out cases (see _choose_priors): a constant for each item
        # already in the history, and a weight on how much each item was clicked lately.
        self.repeat_boost_ = 0.0
        self.trend_weight_ = 0.0
        self._trend: np.ndarray | None = None  # (n_items,) log(1 + clicks in the newest sequences)
        # With refit: the weights validation chose, kept so that a benchmark can measure what the refit adds.
        self.validated_state: dict[str, torch.Tensor] | None = None

    # ---- training -----------------------------------------------------------------------
    def _validate_params(self) -> None:
        p = self.params
        choices = {
            "valid_mode": VALID_MODES, "loss": LOSSES, "precision": PRECISIONS, "positions": POSITIONS,
            "refit_schedule": REFIT_SCHEDULES, "sampling": SAMPLINGS,
            "readout": READOUTS,
        }
        for key, allowed in choices.items():
            if p[key] not in allowed:
                raise InvalidInput(f"sasrec: {key} must be one of {allowed}, got {p[key]!r}")
        for key in ("max_len", "dim", "layers", "heads", "batch_size", "max_epochs", "eval_every", "negatives", "fine_tune_epochs", "recent_copies"):
            if not isinstance(p[key], int) or p[key] < 1:
                raise InvalidInput(f"sasrec: {key} must be a positive integer, got {p[key]!r}")
        if p["dim"] % p["heads"]:
            raise InvalidInput(f"sasrec: dim ({p['dim']}) must be divisible by heads ({p['heads']})")
        if p["temperature"] is not None and not (isinstance(p["temperature"], (int, float)) and p["temperature"] > 0):
            raise InvalidInput(f"sasrec: temperature must be a positive number or None, got {p['temperature']!r}")
        for key in ("repeat_bias", "refit"):
            if not isinstance(p[key], bool):
                raise InvalidInput(f"sasrec: {key} must be true or false, got {p[key]!r}")
        if p["refit"] and p["valid_mode"] == "none":
            raise InvalidInput("sasrec: refit retrains for the epochs validation chose; it needs a valid_mode other than 'none'")
        if p["ema_decay"] is not None and not (isinstance(p["ema_decay"], float) and 0.0 < p["ema_decay"] < 1.0):
            raise InvalidInput(f"sasrec: ema_decay must be a number in (0, 1) or None, got {p['ema_decay']!r}")
        if not (isinstance(p["recent_fraction"], (int, float)) and 0.0 <= p["recent_fraction"] < 1.0):
            raise InvalidInput(f"sasrec: recent_fraction must be a number in [0, 1), got {p['recent_fraction']!r}")
        for key in ("repeat_boost", "trend_weight"):
            value = p[key]
            if not (value is None or value == "auto" or (isinstance(value, (int, float)) and not isinstance(value, bool) and value >= 0)):
                raise InvalidInput(f"sasrec: {key} must be a non-negative number, 'auto' or None, got {value!r}")
            if value == "auto" and p["valid_mode"] == "none":
                raise InvalidInput(f"sasrec: {key}='auto' is chosen on the validation cases; it needs a valid_mode other than 'none'")
        if not (isinstance(p["trend_fraction"], (int, float)) and 0.0 < p["trend_fraction"] <= 1.0):
            raise InvalidInput(f"sasrec: trend_fraction must be a number in (0, 1], got {p['trend_fraction']!r}")
        if not 0.0 <= p["dropout"] < 1.0:
            raise InvalidInput(f"sasrec: dropout must be in [0, 1), got {p['dropout']}")

    def _device(self) -> torch.device:
        wanted = self.params["device"]
        if wanted == "auto":
            return torch.device("cuda" if torch.cuda.is_available() else "cpu")
        return torch.device(wanted)

    def _fit(self, interactions: Interactions) -> None:
        self._validate_params()
        p = self.params
        self._apply_threads()
        keep_freed_memory_for_reuse()  # a CPU step's large buffers: reused, not re-faulted per batch
        torch.manual_seed(p["random_state"])
        rng = np.random.default_rng(p["random_state"])
        device = self._device()
        n_items = interactions.n_items
        self._popularity = np.bincount(interactions.item_idx, minlength=n_items).astype(np.float32)
        self._sampler = None
        self.repeat_boost_ = 0.0 if p["repeat_boost"] in (None, "auto") else float(p["repeat_boost"])
        self.trend_weight_ = 0.0 if p["trend_weight"] in (None, "auto") else float(p["trend_weight"])

        train_seqs, valid_hist, valid_targets = split_validation(
            interactions.sequences(), p["valid_mode"], p["valid_fraction"], p["valid_max_cases"], rng
        )
        inputs, targets = self._training_windows(train_seqs)  # (N, T) tokens each
        # Validation sees the clicks that came just before its cases, as serving will.
        self._trend = None if p["trend_weight"] is None else recent_clicks(train_seqs, n_items, p["trend_fraction"])
        if len(inputs) == 0:
            raise InvalidInput("sasrec: no sequence has two or more items to learn from")
        n_attributes = 0
        if p["item_attributes"]:
            index, offsets, n_attributes = attribute_csr(interactions.item_ids, p["item_attributes"])
            self._attr_arrays = (index, offsets)
        run = _TrainingRun(self._build_net(n_items, n_attributes).to(device), p, len(inputs))
        self._net = net = run.net
        log.info(
            "sasrec: %d training windows, %d validation cases, %d items, %d parameters, device %s",
            len(inputs), len(valid_targets), n_items, sum(t.numel() for t in net.parameters()), device,
        )
        evaluated = run.served
        best_ndcg, best_state, best_epoch, stale = -1.0, None, 0, 0
        # The schedule's horizon in epochs, as it stood during each epoch: a refit replays it.
        horizons: list[float] = []
        started = time.perf_counter()
        marks: list[float] = []  # elapsed seconds at the end of each epoch's training pass
        self._scorer = None
        for epoch in range(1, p["max_epochs"] + 1):
            self._table = None
            horizons.append(run.horizon_steps / run.steps_per_epoch)
            mean_loss = self._train_epoch(run, inputs, targets, n_items, rng)
            elapsed = time.perf_counter() - started
            if p["max_minutes"] is not None:
                # Fit the cosine decay into the time budget: the learning rate should reach its
                # low end when time runs out, not 200 epochs later. Re-estimated every epoch from
                # the last three epochs' time (validation included): the first epoch is often
                # slower, and on a shared machine the pace changes when other jobs come and go.
                marks.append(elapsed)
                recent = marks[-4:]
                per_epoch = (recent[-1] - recent[0]) / (len(recent) - 1) if len(recent) > 1 else elapsed
                left_s = 60 * p["max_minutes"] - elapsed
                fit = int(left_s / max(per_epoch, 1e-9))  # whole epochs still within the budget
                run.horizon_steps = run.steps_per_epoch * min(p["max_epochs"], epoch + max(1, fit))
            # Stop before an epoch that would end past the budget, not after it: the budget is
            # a limit the user set, and the cosine decay above was fitted to end within it.
            over_budget = p["max_minutes"] is not None and fit < 1
            last = epoch == p["max_epochs"] or over_budget
            if len(valid_targets) and (epoch % p["eval_every"] == 0 or last):
                ndcg = self._validation_ndcg(valid_hist, valid_targets, evaluated)
                improved = ndcg > best_ndcg
                if improved:
                    best_ndcg, best_epoch, stale = ndcg, epoch, 0
                    best_state = {k: v.detach().clone() for k, v in evaluated.state_dict().items()}
                    self._checkpoint(evaluated, run.optimizer, epoch, ndcg)
                else:
                    stale += 1
                log.info(
                    "epoch %3d  loss %.4f  valid ndcg@10 %.4f%s  lr %.2e  %.0f s",
                    epoch, mean_loss, ndcg, " *" if improved else "", run.schedule.get_last_lr()[0], elapsed,
                )
                if stale >= p["patience"]:
                    log.info("early stop: no improvement in %d evaluations", stale)
                    break
            else:
                log.info("epoch %3d  loss %.4f  %.0f s", epoch, mean_loss, elapsed)
            if over_budget:
                log.info("time budget of %.1f min reached", p["max_minutes"])
                break
        if best_state is not None:
            net.load_state_dict(best_state)
        elif run.averaged is not None:  # no validation: serve the average as it stands
            net.load_state_dict(run.averaged.module.state_dict())
        self.best_valid_ndcg, self.best_epoch = best_ndcg, best_epoch
        if "auto" in (p["repeat_boost"], p["trend_weight"]) and best_state is not None:
            self._table = None
            self.repeat_boost_, self.trend_weight_ = self._choose_priors(valid_hist, valid_targets)
        if self._trend is not None:  # served: the newest clicks, the held-out sequences' included
            self._trend = recent_clicks(interactions.sequences(), n_items, p["trend_fraction"])
        self.validated_state = None
        if p["refit"] and best_epoch:
            self.validated_state = best_state
            self._refit(interactions.sequences(), horizons[:best_epoch], n_items, n_attributes)
        self._table = None
        self._prepare_serving()

    def _refit(self, sequences: list[np.ndarray], horizons: list[float], n_items: int, n_attributes: int) -> None:
        """Train a fresh model on every sequence, the validation cases included, for the epochs
        validation chose, replaying the learning-rate schedule of the run that chose them
        (``refit_schedule="replay"``) or on a complete schedule that ends at that epoch
        (``"complete"``: the same as training with no validation for that many epochs).

        Validation holds out each sequence's newest item (or the newest sessions): the events
        nearest to what the model will be asked next. Once validation has picked the number of
        epochs it is no longer needed, and the final model learns from those events too.
        """
        p = self.params
        # The same initial weights as the validated run, and batches drawn from a fresh generator:
        # the refit does not depend on how many epochs past its best the validated run went on.
        torch.manual_seed(p["random_state"])
        rng = np.random.default_rng(p["random_state"])
        inputs, targets = self._training_windows(sequences)
        run = _TrainingRun(self._build_net(n_items, n_attributes).to(self._device()), p, len(inputs))
        log.info("refit: a fresh model on all %d training windows for %d epochs", len(inputs), len(horizons))
        started = time.perf_counter()
        if p["refit_schedule"] == "complete":
            horizons = [float(len(horizons))] * len(horizons)
        for epoch, horizon_epochs in enumerate(horizons, start=1):
            run.horizon_steps = max(1, round(horizon_epochs * run.steps_per_epoch))
            mean_loss = self._train_epoch(run, inputs, targets, n_items, rng)
            log.info("refit epoch %3d  loss %.4f  %.0f s", epoch, mean_loss, time.perf_counter() - started)
        self._net = run.net
        if run.averaged is not None:  # serve the average, as the validated run did
            self._net.load_state_dict(run.averaged.module.state_dict())
        self._checkpoint(self._net, run.optimizer, len(horizons), None, name="refit")

    def _training_windows(self, sequences: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        """The windows an epoch trains on: every sequence's, then the newest ``recent_fraction``
        of the sequences' again, ``recent_copies - 1`` more times.

        Session data drifts: the test days' clicks go to items in fashion the days before, some
        of which barely existed earlier. Oversampling the newest sessions tilts the model
        towards them without dropping the older ones. Sequences must be in time order (session
        datasets are: the harness keeps their chronological order); per-user sequences are
        not, so this is for session data.
        """
        p = self.params
        inputs, targets = training_windows(sequences, p["max_len"])
        n_recent = int(len(sequences) * p["recent_fraction"])
        if n_recent and p["recent_copies"] > 1:
            recent_inputs, recent_targets = training_windows(sequences[-n_recent:], p["max_len"])
            copies = p["recent_copies"] - 1
            inputs = np.concatenate([inputs, *[recent_inputs] * copies])
            targets = np.concatenate([targets, *[recent_targets] * copies])
        return inputs, targets

    def _train_epoch(self, run: _TrainingRun, inputs: np.ndarray, targets: np.ndarray, n_items: int, rng) -> float:
        """One pass over the training windows in length-bucketed batches; returns the mean loss."""
        net = run.net
        net.train()
        device = next(net.parameters()).device
        inputs_t, targets_t = torch.from_numpy(inputs), torch.from_numpy(targets)
        lengths = (inputs > 0).sum(1)  # (N,)
        total_loss, n_batches = 0.0, 0
        for batch in length_bucketed_batches(lengths, self.params["batch_size"], rng):
            width = int(lengths[batch].max())  # crop the all-padding columns on the left
            batch = torch.from_numpy(batch)
            loss = self._batch_loss(
                net, inputs_t[batch, -width:].to(device), targets_t[batch, -width:].to(device), n_items, rng
            )
            run.optimizer.zero_grad(set_to_none=True)
            loss.backward()
            run.optimizer.step()
            run.schedule.step()
            if run.averaged is not None:
                run.averaged.update_parameters(net)
            total_loss += loss.item()
            n_batches += 1
        return total_loss / n_batches

    def partial_fit(self, interactions: Interactions) -> SASRecRecommender:
        """Fine-tune on new sequences: ``fine_tune_epochs`` passes at ``fine_tune_lr``, no validation.

        This is the online learner's micro-batch step. Items the model has never seen are
        skipped (they have no embedding row; the serving layer's online co-occurrence covers
        them until the next full refit). A fresh optimizer each call: the moments of the
        offline run describe a different data distribution and a much larger learning rate.
        """
        self._check_fitted()
        p = self.params
        net = self._net
        to_model = pd.Index(self.item_ids).get_indexer(interactions.item_ids)  # their index -> ours, -1 unknown
        sequences = [seq[seq >= 0] for seq in (to_model[s] for s in interactions.sequences())]
        inputs, targets = training_windows([s for s in sequences if len(s) >= 2], p["max_len"])
        if len(inputs) == 0:
            return self
        rng = np.random.default_rng(p["random_state"])
        # A constant, small learning rate and no weight average: a few steps on fresh events.
        run = _TrainingRun(net, {**p, "lr": p["fine_tune_lr"], "ema_decay": None}, len(inputs), schedule=False)
        self._table, self._scorer = None, None
        for _ in range(p["fine_tune_epochs"]):
            self._train_epoch(run, inputs, targets, len(self.item_ids), rng)
        self._table = None  # the item vectors moved
        self._prepare_serving()
        return self

    def _apply_threads(self) -> None:
        if self.params["threads"] is not None:
            # Process-wide; None keeps torch's default of every core. One thread wins when
            # other jobs share the CPU (OpenMP threads spin-wait for each other), e.g. a server
            # scoring one small request at a time beside its HTTP loop.
            torch.set_num_threads(self.params["threads"])
            try:
                # TorchScript graphs may also hand work to the inter-op pool: same limit.
                torch.set_num_interop_threads(self.params["threads"])
            except RuntimeError:  # settable once, before the process's first parallel work
                pass

    def _build_net(self, n_items: int, n_attributes: int) -> SASRecNet:
        p = self.params
        net = SASRecNet(
            n_items, max_len=p["max_len"], dim=p["dim"], layers=p["layers"], heads=p["heads"],
            dropout=p["dropout"], n_attributes=n_attributes,
            temperature=None if p["temperature"] is None else float(p["temperature"]),
            repeat_bias=bool(p["repeat_bias"]),
            positions=p["positions"], readout=p["readout"],
        )
        if self._attr_arrays is not None:
            index, offsets = self._attr_arrays
            net.set_item_attributes(torch.from_numpy(index), torch.from_numpy(offsets))
        return net

    def _batch_loss(self, net: SASRecNet, inputs: torch.Tensor, targets: torch.Tensor, n_items: int, rng) -> torch.Tensor:
        # bf16: matrix products in bfloat16 (weights, optimizer and softmax stay float32). The
        # catalog-wide logits are the bulk of an epoch's memory traffic; half-width values
        # halve it, and CPUs with AMX or AVX-512 BF16 multiply them natively.
        with torch.autocast(inputs.device.type, dtype=torch.bfloat16, enabled=self.params["precision"] == "bf16"):
            return self._loss(net, inputs, targets, n_items, rng)

    def _loss(self, net: SASRecNet, inputs: torch.Tensor, targets: torch.Tensor, n_items: int, rng) -> torch.Tensor:
        table = net.item_table()  # (n_items + 1, D)
        states = net(inputs, table)  # (B, T, D)
        valid = targets > 0
        states, labels = states[valid], targets[valid] - 1  # (M, D), (M,) catalog indices
        session = recency = None
        if net.repeat is not None:
            session, recency = _prefixes(inputs, valid)
        if self.params["loss"] == "ce":
            logits = net.logits(states, table)
            if session is not None:
                logits = logits + net.repeat.dense(session, recency, states, n_items + 1)[:, 1:]
            return F.cross_entropy(logits, labels)
        # Sampled softmax: the positive against negatives shared by the batch, every score
        # minus the log of its expected count among the draws; a negative that happens to be
        # the positive is masked out (it is not a negative for that row).
        cdf, log_q = self._negative_sampler(n_items, states.device)
        draws = np.minimum(np.searchsorted(cdf, rng.random(self.params["negatives"])), n_items - 1)
        negatives = torch.from_numpy(draws).to(states.device)
        out = net.output_states(states)
        pos = (out * net.output_table(table[labels + 1])).sum(-1, keepdim=True) - log_q[labels, None]  # (M, 1)
        neg = out @ net.output_table(table[negatives + 1]).T - log_q[negatives]  # (M, N)
        neg = neg.masked_fill(negatives[None, :] == labels[:, None], float("-inf"))
        parts = [pos, neg]
        if session is not None:
            # The repeat term only learns what it costs if the items it lifts compete: each row's
            # own earlier items join its negatives (once each), and the shared draws that are
            # among them leave, so no item is counted twice. The positive and the row's own items
            # are in every row's softmax, not drawn, so they are exact terms of the partition
            # function and take no correction; only the draws stand for the rest of the catalog.
            # (With every term corrected alike, a draw would count for one item, not for
            # 1 / (negatives · q) of them, and items already seen would be learned as that
            # much less likely: tens of times, against a uniform draw from a large catalog.)
            pos = pos + log_q[labels, None] + net.repeat.at(session, recency, states, labels[:, None] + 1)
            in_session = _drawn_in_session(session, negatives + 1, n_items)  # (M, N)
            neg = neg.masked_fill(in_session, float("-inf"))
            own = (out[:, None, :] * net.output_table(table[session])).sum(-1)  # (M, T)
            own = own + net.repeat.at(session, recency, states, session)
            earlier_copy = (session[:, :, None] == session[:, None, :]).tril(-1).any(2)  # (M, T)
            own = own.masked_fill((session == 0) | (session == labels[:, None] + 1) | earlier_copy, float("-inf"))
            parts = [pos, neg, own]
        logits = torch.cat(parts, dim=1)
        return F.cross_entropy(logits, torch.zeros(len(labels), dtype=torch.long, device=states.device))

    def _negative_sampler(self, n_items: int, device: torch.device) -> tuple[np.ndarray, torch.Tensor]:
        """The negatives' distribution q as a CDF to draw from, and log(negatives · q) per item."""
        if self._sampler is None:  # reset by fit, whose popularity it is built from
            q = np.full(n_items, 1.0 / n_items)
            if self.params["sampling"] == "mixed" and self._popularity.sum() > 0:
                q = 0.5 * q + 0.5 * self._popularity / self._popularity.sum()
            log_q = torch.from_numpy(np.log(self.params["negatives"] * q).astype(np.float32)).to(device)
            self._sampler = (np.cumsum(q), log_q)
        return self._sampler

    def _validation_ndcg(self, histories: list[np.ndarray], targets: np.ndarray, net: SASRecNet) -> float:
        """NDCG@10 of ``net`` (the trained weights or their average) on the held-out cases."""
        training_net, self._net, self._table = self._net, net, None
        try:
            return self._ndcg(histories, targets)
        finally:
            self._net, self._table = training_net, None

    def _ndcg(self, histories: list[np.ndarray], targets: np.ndarray) -> float:
        return float(self._ndcg_by_priors(histories, targets, [(self.repeat_boost_, self.trend_weight_)])[0])

    def _choose_priors(self, histories: list[np.ndarray], targets: np.ndarray) -> tuple[float, float]:
        """The repeat boost and trend weight ("auto": from their grids; else as set) with the
        best NDCG@10 on the held-out cases, for the weights validation chose.

        Why a repeat boost: a model under-ranks going back, out of sample. In training it has
        learned the transitions to new items by heart, so they outscore the items already in the
        session; on unseen sessions those transitions are far less certain, while going back
        stays as likely (a fifth of Diginetica's next clicks). A repeat term learned in training
        (``repeat_bias``) sees only the in-sample balance; this constant is chosen on cases that
        training never saw. Why a trend weight: what was clicked most lately is a prior the
        network's item vectors, fitted over the whole period, do not hold. The refit keeps both.
        """
        p = self.params
        boosts = REPEAT_BOOST_GRID if p["repeat_boost"] == "auto" else (self.repeat_boost_,)
        trends = TREND_WEIGHT_GRID if p["trend_weight"] == "auto" else (self.trend_weight_,)
        grid = [(b, t) for t in trends for b in boosts]
        ndcg = self._ndcg_by_priors(histories, targets, grid)
        best = int(np.argmax(ndcg))  # the first of equals: no prior unless it wins
        log.info("scoring priors on validation (repeat boost, trend weight: NDCG@10): %s",
                 ", ".join(f"{b:g}, {t:g}: {v:.4f}" for (b, t), v in zip(grid, ndcg)))
        log.info("chosen: repeat boost %g, trend weight %g", *grid[best])
        return float(grid[best][0]), float(grid[best][1])

    def _ndcg_by_priors(self, histories: list[np.ndarray], targets: np.ndarray, grid: Sequence[tuple[float, float]]) -> np.ndarray:
        """NDCG@10 on the held-out cases for each (repeat boost, trend weight): one scoring pass
        of the network, then per setting only the target's rank (how many items score higher),
        so a whole grid costs little more than one setting."""
        chosen, (self.repeat_boost_, self.trend_weight_) = (self.repeat_boost_, self.trend_weight_), (0.0, 0.0)
        exclude_seen = self.params["valid_exclude_seen"]
        gains = np.zeros(len(grid))
        try:
            for begin in range(0, len(histories), 1024):
                batch, wanted = histories[begin : begin + 1024], targets[begin : begin + 1024]
                raw = self.score_histories(batch)  # (B, n_items), no priors
                seen = [np.unique(hist) for hist in batch]
                rows = np.repeat(np.arange(len(batch)), [len(items) for items in seen])  # one per (row, seen item)
                cols = np.concatenate(seen).astype(np.int64) if len(rows) else np.empty(0, np.int64)
                others = cols != wanted[rows]  # the seen items that are not the row's target
                target_seen = np.isin(np.arange(len(batch)), rows[~others])
                for trend in sorted({t for _, t in grid}):
                    base = raw + trend * self._trend if trend else raw
                    base_target = base[np.arange(len(batch)), wanted]
                    base_seen = base[rows, cols]
                    for column in (c for c, (_, t) in enumerate(grid) if t == trend):
                        boost = grid[column][0]
                        # Excluded seen items rank nowhere; boosted ones move up by the boost.
                        lift = 0.0 if exclude_seen else boost
                        target = base_target + lift * target_seen
                        above = (base > target[:, None]).sum(1)
                        above -= np.bincount(rows, base_seen > target[rows], minlength=len(batch)).astype(np.int64)
                        if not exclude_seen:
                            moved = (base_seen + boost > target[rows]) & others
                            above += np.bincount(rows, moved, minlength=len(batch)).astype(np.int64)
                        gain = np.where(above < 10, 1.0 / np.log2(above + 2.0), 0.0)
                        if exclude_seen:
                            gain[target_seen] = 0.0
                        gains[column] += gain.sum()
        finally:
            self.repeat_boost_, self.trend_weight_ = chosen
        return gains / max(1, len(histories))

    def _checkpoint(self, net: SASRecNet, optimizer, epoch: int, ndcg: float | None, *, name: str = "best") -> None:
        if not self.params["checkpoint_dir"]:
            return
        path = Path(self.params["checkpoint_dir"]) / f"{name}.safetensors"
        save_checkpoint(path, net, optimizer, {"epoch": epoch, "valid_ndcg@10": ndcg, "params": self.params})

    # ---- scoring ------------------------------------------------------------------------
    @torch.inference_mode()
    def score_histories(self, histories: Sequence[np.ndarray], users: np.ndarray | None = None) -> np.ndarray:
        self._check_fitted()
        net = self._net
        if net.training:  # only after a training epoch: eval() walks every module, ~1 ms a call
            net.eval()
        table = self._inference_table()
        if len(histories) == 1 and self._scorer is not None:  # a live request: a traced graph
            width, graph = next((w, g) for w, g in self._scorer if w >= min(len(histories[0]), self.params["max_len"]))
            tokens = torch.from_numpy(left_pad(histories, width, full_width=True))  # (1, width)
            scores = graph(tokens).float().numpy()
        else:
            tokens = torch.from_numpy(left_pad(histories, self.params["max_len"])).to(table.device)  # (B, T)
            states = net(tokens, table)[:, -1]  # (B, D): the state after the newest item
            scores = net.logits(states, table)  # (B, n_items)
            if net.repeat is not None:
                scores = scores + net.repeat.dense(tokens, sequence_recency(tokens), states, table.shape[0])[:, 1:]
            scores = scores.float().cpu().numpy()
        if self.trend_weight_:
            scores += self.trend_weight_ * self._trend
        if self.repeat_boost_:
            for row, hist in enumerate(histories):
                scores[row, np.unique(hist)] += self.repeat_boost_
        empty = np.array([len(h) == 0 for h in histories])
        if empty.any():
            scores[empty] = self._popularity
        return scores

    @torch.inference_mode()
    def similar_item_scores(self, item: int) -> np.ndarray:
        """Cosine similarity of the learned item vectors: one product with the catalog instead
        of a transformer pass per item, which is what reasons and /similar need per request."""
        self._check_fitted()
        self._inference_table()
        unit = self._unit_np  # NumPy's matrix-vector product: no torch dispatch for a 50 µs product
        return unit @ unit[item]

    def _prepare_serving(self) -> None:
        """Once the weights are final (fitted, fine-tuned, loaded): trace the one-sequence scorer
        that live requests use. CPU only; a GPU batches well enough eagerly."""
        self._scorer = None
        net = self._net
        if net is None or next(net.parameters()).device.type != "cpu":
            return
        net.eval()
        # A few widths: a short history (the usual live request) need not pay for max_len positions;
        # with MovieLens's 200, a 20-item history costs 4.7 ms padded to 200 (four blocks, one thread).
        widths = sorted({min(width, net.max_len) for width in SERVING_WIDTHS} | {net.max_len})
        table = self._inference_table()
        self._scorer = [(w, trace_single_sequence_scorer(net, table, width=w)) for w in widths]

    def validated_model(self) -> SASRecRecommender | None:
        """A copy serving the weights validation chose, before the refit (None without a refit):
        what a benchmark compares the refitted model with."""
        if self.validated_state is None:
            return None
        validated = copy.deepcopy(self)
        validated._net.load_state_dict(self.validated_state)
        validated._table = None
        validated._prepare_serving()
        return validated

    def __deepcopy__(self, memo: dict) -> SASRecRecommender:
        # The online learner fine-tunes a deep copy; a frozen TorchScript graph cannot be
        # deep-copied, and the copy traces its own once its new weights are final.
        clone = copy.copy(self)
        memo[id(self)] = clone
        clone.__dict__ = {k: None if k == "_scorer" else copy.deepcopy(v, memo) for k, v in self.__dict__.items()}
        return clone

    def _inference_table(self) -> torch.Tensor:
        if self._table is None:
            with torch.inference_mode():
                self._table = self._net.item_table().detach()
                self._unit_np = F.normalize(self._table[1:], dim=1).float().cpu().numpy()  # (n_items, D) for cosine
        return self._table

    # ---- persistence --------------------------------------------------------------------
    @classmethod
    def saved_params(cls, params: dict) -> dict:
        # Models saved before ``positions`` existed were trained with the original layout.
        return {"positions": "from_end", **params}

    def _state(self) -> dict[str, np.ndarray]:
        state = {f"w.{k}": v.detach().cpu().numpy() for k, v in self._net.state_dict().items()}
        state["popularity"] = self._popularity
        state["priors"] = np.array([self.repeat_boost_, self.trend_weight_], dtype=np.float64)
        if self._trend is not None:
            state["trend"] = self._trend
        if self._attr_arrays is not None:
            state["attr_index"], state["attr_offsets"] = self._attr_arrays
        return state

    def _set_state(self, arrays: dict[str, np.ndarray]) -> None:
        self._popularity = arrays["popularity"]
        self.repeat_boost_, self.trend_weight_ = (float(v) for v in arrays.get("priors", (0.0, 0.0)))
        self._trend = arrays.get("trend")
        if "attr_index" in arrays:
            self._attr_arrays = (arrays["attr_index"], arrays["attr_offsets"])
        weights = {k[2:]: torch.from_numpy(v) for k, v in arrays.items() if k.startswith("w.")}
        n_attributes = weights["attr_emb.weight"].shape[0] if "attr_emb.weight" in weights else 0
        self._net = self._build_net(len(self.item_ids), n_attributes)
        self._net.load_state_dict(weights)
        self._net.to(self._device()).eval()
        self._table = None
        self._apply_threads()  # a loaded model runs with the threads it was configured for
        self._prepare_serving()


class _TrainingRun:
    """A network with its optimizer, learning-rate schedule and optional weight average."""

    def __init__(self, net: SASRecNet, p: dict, n_windows: int, *, schedule: bool = True) -> None:
        self.net = net
        self.optimizer = torch.optim.AdamW(net.parameters(), lr=p["lr"], weight_decay=p["weight_decay"])
        self.steps_per_epoch = math.ceil(n_windows / p["batch_size"])
        self.horizon_steps = self.steps_per_epoch * p["max_epochs"]  # a time budget shortens it
        warmup = max(1, int(p["warmup_epochs"] * self.steps_per_epoch))
        self.schedule = torch.optim.lr_scheduler.LambdaLR(
            self.optimizer, (lambda s: _warmup_cosine(s, warmup, self.horizon_steps)) if schedule else (lambda s: 1.0)
        )
        # Weight averaging: validation, checkpoints and serving use an exponential moving average
        # of the weights, not the last step's. Where a model peaks while its learning rate is
        # still high, the average sits nearer the middle of the minimum the steps bounce around.
        self.averaged = None
        if p["ema_decay"] is not None:
            self.averaged = torch.optim.swa_utils.AveragedModel(
                net, multi_avg_fn=torch.optim.swa_utils.get_ema_multi_avg_fn(p["ema_decay"])
            )
        self.served = net if self.averaged is None else self.averaged.module  # what validation scores


def recent_clicks(sequences: list[np.ndarray], n_items: int, fraction: float) -> np.ndarray:
    """(n_items,) log(1 + clicks) of each item in the newest ``fraction`` of the sequences
    (session data is in time order)."""
    newest = sequences[-max(1, int(len(sequences) * fraction)) :]
    counts = np.bincount(np.concatenate(newest), minlength=n_items) if newest else np.zeros(n_items)
    return np.log1p(counts).astype(np.float32)


def _drawn_in_session(session: torch.Tensor, drawn: torch.Tensor, n_items: int) -> torch.Tensor:
    """(M, T) session tokens, (N,) drawn tokens -> (M, N): is draw n among row m's items?

    Through a token -> slot table rather than comparing every pair (M·T·N, tens of millions
    a batch); a token drawn twice maps to one slot, which both draws then read.
    """
    slot = torch.full((n_items + 1,), -1, dtype=torch.long, device=drawn.device)
    slot[drawn] = torch.arange(len(drawn), device=drawn.device)
    hit = slot[session]  # (M, T): the slot of each session token among the draws, -1 if none
    seen = torch.zeros(session.shape[0], len(drawn) + 1, dtype=torch.bool, device=drawn.device)
    seen.scatter_(1, torch.where(hit >= 0, hit, len(drawn)), True)  # column N collects the misses
    return seen[:, slot[drawn]]


def _prefixes(inputs: torch.Tensor, valid: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """For each trained position (row-major, as ``states[valid]``): the tokens up to and
    including it, later ones zeroed, and how many steps back each is. Two (M, T) tensors."""
    rows, cols = valid.nonzero(as_tuple=True)
    steps = torch.arange(inputs.shape[1], device=inputs.device)
    session = inputs[rows].masked_fill(steps[None, :] > cols[:, None], 0)
    return session, (cols[:, None] - steps[None, :]).clamp(min=0)


def _warmup_cosine(step: int, warmup: int, total: int) -> float:
    if step < warmup:
        return (step + 1) / warmup
    progress = min(1.0, (step - warmup) / max(1, total - warmup))
    return 0.5 * (1.0 + math.cos(math.pi * progress))
