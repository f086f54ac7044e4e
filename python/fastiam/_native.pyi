"""Type stubs of the native module ``fastiam._native`` (re-exported by ``fastiam``)."""

import os
import pathlib
from typing import Any, Dict, Iterable, List, Literal, Mapping, Optional, Sequence, Tuple, Union, overload

# A policy: JSON text, a parsed document, CASES.md's wrapped form
# ``{"id": NAME, "document": DOC}``, or a path (a file, or a directory of ``*.json`` files,
# read in name order, each named by its file stem). A ``str`` is always JSON text.
PolicyLike = Union[str, Mapping[str, Any], "os.PathLike[str]"]
# A chain: a CASES.md case without ``policies`` (``id`` optional), its JSON text, or a
# ``Chain`` read once (the fast path).
ChainLike = Union["Chain", Mapping[str, Any], str]

class FastiamError(Exception):
    """Base of every fastiam error."""

class PolicyError(FastiamError):
    """A policy document could not be read.

    >>> try:
    ...     Program.compile(identity=['{"Statement": [{"Effect": "allow"}]}'])
    ... except PolicyError as e:
    ...     print(e.file, e.pointer, e.line, e.column)
    identity[0] /Statement/0/Effect 1 27
    """

    file: Optional[str]
    """The file, or the policy's name for text and dicts (``identity[0]``, ``scp[1][0]``)."""
    pointer: Optional[str]
    """JSON pointer (RFC 6901) to the offending value; ``None`` when not known."""
    line: Optional[int]
    column: Optional[int]

class ProgramError(FastiamError):
    """Bytes or a file that are not a valid compiled program (or a set too large to compile)."""

class RequestError(FastiamError):
    """A chain that is not a CASES.md request, or that does not fit the program.

    >>> try:
    ...     Chain({"principal": arn, "chain": [{"action": "s3:GetObject", "resource": "*",
    ...                                         "context": {"aws:SourceIp": {"10.0.0.1"}}}]})
    ... except RequestError as e:
    ...     print(e.pointer)
    /chain/0/context/aws:SourceIp
    """

    pointer: Optional[str]
    """JSON pointer (RFC 6901) to the offending value in the chain; ``None`` when the
    error is about the whole chain (not JSON, not a dict, a slot the program lacks)."""

class ReplayError(FastiamError):
    """A replay input (policy, account data, log, Arrow column) that cannot be used."""

class MatchedStatement:
    """One statement that took part in a hop's decision (R-SIM-3)."""

    policy: str
    """The policy's name: ``identity[0]``, a file stem, or the id given."""
    kind: str
    """``Scp``, ``Rcp``, ``VpcEndpoint``, ``ResourceBased``, ``Identity``,
    ``PermissionsBoundary`` or ``Session``."""
    statement: int
    """The statement's index within its policy."""
    sid: Optional[str]
    level: Optional[int]
    """SCP/RCP level, root first; ``None`` for other kinds."""

class HopResult:
    """The result of one hop."""

    decision: str
    """``Allow``, ``ExplicitDeny`` or ``ImplicitDeny``."""
    reason: str
    """``Allowed:Identity``, ``ExplicitDeny:Scp``, ``NoAllow``, … (R-SIM-2)."""
    matched: List[MatchedStatement]
    """The statements that decided, in R-SIM-3 order."""
    missing: List[str]
    """Context keys the policies read but the request did not carry (canonical, sorted)."""

class Chain:
    """A chain read once and kept packed: ``Program.evaluate(chain)`` then costs the
    evaluation and a small result object, and ``Program.evaluate_many`` over ``Chain``
    objects needs the GIL only to hand back the results. Reusable with any program.

    >>> chain = Chain({"principal": "arn:aws:iam::111122223333:user/alice",
    ...                "chain": [{"action": "s3:GetObject", "resource": "arn:aws:s3:::b/k"}]})
    >>> program.evaluate(chain).decision
    'Allow'
    """

    def __init__(self, chain: Union[Mapping[str, Any], str]) -> None:
        """Reads a chain: a dict in CASES.md's request shape (a case without
        ``policies``; ``id`` optional) or its JSON text. The dict is walked directly (no
        JSON text): its values must be dicts with ``str`` keys, lists, tuples, ``str``,
        ``int``, finite ``float``, ``bool`` or ``None``. Raises ``RequestError`` with the
        JSON pointer of what is wrong."""
    @property
    def id(self) -> str:
        """The chain's ``id`` (empty when it had none)."""
    def __len__(self) -> int:
        """Hops in the chain."""

class Evaluation:
    """The result of a chain: the first hop not allowed decides (R-FAS-2).

    Lazy: ``decision``, ``denied_at`` and ``allowed`` are read straight from the engine's
    outcome; the per-hop detail (policy names, sids, key names) is built the first time
    ``hops`` or ``to_dict()`` is asked for.

    >>> r = program.evaluate(chain)
    >>> r.decision, r.denied_at, r.hops[0].reason
    ('Allow', None, 'Allowed:Identity')
    """

    decision: str
    """``Allow``, ``ExplicitDeny``, ``ImplicitDeny`` or ``InvalidCredentials``."""
    denied_at: Optional[int]
    """The first hop not allowed; ``None`` when the chain is allowed."""
    hops: List[HopResult]
    """One per evaluated hop, up to and including the first denied one."""
    @property
    def allowed(self) -> bool: ...
    def to_dict(self) -> Dict[str, Any]:
        """The CASES.md decision line, as ``fastiam eval`` prints it for the case."""

class Program:
    """A compiled policy set, shared by any number of threads.

    >>> program = Program.compile(
    ...     identity=[{"Version": "2012-10-17", "Statement": [
    ...         {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}],
    ...     scp=[[pathlib.Path("root-scp.json")], [pathlib.Path("ou-scp.json")]])
    >>> program.evaluate({"principal": "arn:aws:iam::111122223333:user/alice",
    ...                   "chain": [{"action": "s3:GetObject", "resource": "arn:aws:s3:::b/k"}]})
    Evaluation(decision="Allow", denied_at=None, hops=1)
    """

    @staticmethod
    def compile(
        identity: Optional[Sequence[PolicyLike]] = None,
        *,
        boundary: Optional[PolicyLike] = None,
        session: Optional[Sequence[PolicyLike]] = None,
        scp: Optional[Sequence[Sequence[PolicyLike]]] = None,
        rcp: Optional[Sequence[Sequence[PolicyLike]]] = None,
        vpce: Optional[PolicyLike] = None,
        resource: Optional[Sequence[PolicyLike]] = None,
        mode: str = "strict",
        huawei_policy_variables: bool = False,
    ) -> "Program":
        """Compiles a policy set.

        ``scp`` and ``rcp`` are lists of levels (lists of policies), root first.
        ``session=[]`` means session policies were passed, none of them (R-STS-3); ``None``
        means none were passed. Hops name ``resource`` policies by
        ``resource_policy_slot`` (their position in the list). ``mode`` is ``"strict"`` or
        ``"lenient"`` (R-GEN-6). Raises ``PolicyError``, ``TypeError``, ``ValueError``.
        """
    @staticmethod
    def load(path: Union[str, "os.PathLike[str]"]) -> "Program":
        """Memory-maps a program file (``fastiam compile -o``, ``to_bytes()``) and verifies
        every byte. The file must not change while the program is alive. Raises
        ``ProgramError`` or ``OSError``."""
    @staticmethod
    def from_bytes(data: bytes) -> "Program":
        """Loads a program from its bytes (copied), verified. Raises ``ProgramError``."""
    def to_bytes(self) -> bytes:
        """The program's bytes: what ``fastiam compile -o`` writes."""
    def evaluate(self, chain: ChainLike) -> Evaluation:
        """Evaluates one chain: a ``Chain`` (read once; the fast path, about the cost of the
        Rust API) or a CASES.md case without ``policies``, as a dict or JSON text::

            {"principal": "arn:aws:sts::111122223333:assumed-role/reader/s",
             "context": {"aws:SourceIp": "203.0.113.9"},
             "chain": [{"action": "s3:GetObject", "resource": "arn:aws:s3:::b/k"},
                       {"via": "s3.amazonaws.com", "action": "kms:Decrypt",
                        "resource": "arn:aws:kms:us-east-1:111122223333:key/k",
                        "resource_policy_slot": 0}]}

        Raises ``RequestError`` naming the JSON pointer of what is wrong, or for a
        ``resource_policy_slot`` the program does not have. A ``Chain`` is evaluated with
        the GIL held (about a microsecond); a dict or text is read with it held and
        evaluated without it. Threads wanting parallelism use ``evaluate_many``.
        """
    @overload
    def evaluate_many(
        self, chains: Iterable[ChainLike], *, errors: Literal["raise"] = "raise"
    ) -> List[Evaluation]: ...
    @overload
    def evaluate_many(
        self, chains: Iterable[ChainLike], *, errors: Literal["return"]
    ) -> List[Union[Evaluation, RequestError]]:
        """Evaluates chains in parallel on all cores, results in order. ``Chain`` items
        are evaluated with the GIL released; dicts and JSON text are walked under the GIL
        and read and evaluated without it. The GIL is taken back every 4,096 chains, so
        Ctrl-C interrupts a long call (``KeyboardInterrupt``).

        ``errors="raise"``: the first chain (in order) that cannot be read or evaluated
        raises ``RequestError`` (``chains[i]: …``). ``errors="return"``: that chain's
        ``RequestError`` stands in its place in the list, and the others are evaluated."""
    @property
    def statements(self) -> int: ...
    @property
    def policies(self) -> int: ...
    @property
    def resource_policies(self) -> int:
        """How many resource policies (slots for ``resource_policy_slot``)."""
    def __len__(self) -> int:
        """The program's size in bytes."""

class ReplayReport:
    """What ``Replayer.replay_files`` returns: the command line's report."""

    @property
    def summary(self) -> Dict[str, Any]:
        """The summary ``fastiam replay --json`` prints: ``records``, ``all`` and
        ``forwarded`` counts (allowed, explicit_deny, implicit_deny, depends_on),
        ``unmappable`` classes with examples, ``unreadable``, ``denied`` groups,
        ``depends_on`` keys, ``disagreements``, ``seconds``."""
    @property
    def rows(self) -> List[Dict[str, Any]]:
        """One dict per record, as ``fastiam replay --output FILE`` writes them. Raises
        ``ReplayError`` if the replay was run with ``rows=False``."""
    def to_pandas(self) -> Any:
        """The rows as a ``pandas.DataFrame`` (needs pandas)."""

class Replayer:
    """Replays CloudTrail records against guardrails or an account's policies, with the
    same per-record step as ``fastiam replay``.

    >>> replayer = Replayer(scp=[[pathlib.Path("perimeter-scp.json")]])
    >>> batch = replayer.replay_arrow(pyarrow.array([json.dumps(r) for r in records]))
    >>> batch.column("verdict").value_counts()
    >>> replayer.replay_files(["logs/"]).summary["all"]
    {'allowed': 503, 'explicit_deny': 12, 'implicit_deny': 0, 'depends_on': 120}
    """

    COLUMNS: List[str]
    """``replay_arrow``'s columns: row, record, principal, action, resource, via, hop,
    decision, verdict, reason, matched, missing, depends_on, decided_by, log, error_code,
    unmappable, error."""
    FILE_COLUMNS: List[str]
    """``replay_range``'s columns: ``COLUMNS`` with file and position instead of row."""

    def __init__(
        self,
        *,
        scp: Optional[Sequence[Sequence[PolicyLike]]] = None,
        rcp: Optional[Sequence[Sequence[PolicyLike]]] = None,
        identity: Optional[Sequence[PolicyLike]] = None,
        session: Optional[Sequence[PolicyLike]] = None,
        resource_policies: Optional[Mapping[str, PolicyLike]] = None,
        account_data: Optional[Union[str, "os.PathLike[str]"]] = None,
        context: Optional[Mapping[str, str]] = None,
        assume_absent: Optional[Sequence[str]] = None,
        exact_guardrails: bool = False,
        mode: str = "strict",
    ) -> None:
        """Without ``account_data`` (what-if mode) every principal is assumed allowed by
        its identity and resource side and only ``scp``/``rcp`` (levels, root first) can
        deny; with it (the output of ``aws iam get-account-authorization-details``) each
        record is evaluated against its user's or role's policies. ``identity``: identity
        policies of every principal (in what-if mode they replace the assumed allow-all);
        ``session``: session policies of every role session. ``resource_policies``
        maps resource ARNs to policies; ``context`` sets keys on every record
        (``{"aws:PrincipalOrgID": "o-…"}``); ``assume_absent`` takes keys matching these
        patterns (``aws:PrincipalTag/*``) as absent rather than unknown. Raises
        ``PolicyError``, ``ReplayError``, ``ValueError``."""
    def replay_arrow(self, records: Any) -> Any:
        """Replays a column of CloudTrail records, one record's JSON per row: any Arrow
        C-data producer of strings (``pyarrow.Array``/``ChunkedArray``, ``string``,
        ``large_string`` or ``string_view``; a one-column ``RecordBatch``/stream; any
        object with ``__arrow_c_array__`` or ``__arrow_c_stream__``). Returns a
        ``pyarrow.RecordBatch`` of ``COLUMNS``, one row per input row in order; a row that
        could not be replayed has ``unmappable`` (its class) and ``error`` set. The GIL is
        released while records replay, on all cores."""
    def replay_files(
        self, paths: Sequence[Union[str, "os.PathLike[str]"]], *, rows: bool = True
    ) -> ReplayReport:
        """Replays log files and directory trees as ``fastiam replay`` does (CloudTrail
        delivery files, JSON Lines, arrays; plain or gzip), on all cores with the GIL
        released. ``rows=False`` keeps no per-record rows."""
    def replay_range(
        self,
        path: Union[str, "os.PathLike[str]"],
        start: Optional[int] = None,
        end: Optional[int] = None,
        *,
        columns: Optional[Sequence[str]] = None,
    ) -> Any:
        """Replays one task of a distributed replay (``plan_tasks``): the whole file
        ``path`` (any format, gzip too) without ``start``/``end``; else the lines of a
        JSON Lines file that the raw byte range ``[start, end)`` owns — those whose
        preceding newline lies in it, so that ranges covering a file read every line
        once. Returns a ``pyarrow.RecordBatch`` of ``FILE_COLUMNS``, one row per record
        (evaluated, unmappable, or unreadable: a damaged record, or one row for a file that
        cannot be read), on the calling thread with the GIL released. ``columns`` keeps only
        these of ``FILE_COLUMNS``, in this order; the others are not computed.

        >>> replayer.replay_range("export.jsonl", 0, 64 << 20).num_rows
        51234
        """

def plan_tasks(
    paths: Sequence[Union[str, "os.PathLike[str]"]], *, task_bytes: int = 64 << 20
) -> Tuple[
    List[Tuple["pathlib.Path", Optional[int], Optional[int], int]],
    List[Tuple[str, str, str]],
    List[Tuple["pathlib.Path", str]],
]:
    """Lists ``paths`` as ``fastiam replay`` walks them and cuts them into tasks for
    ``Replayer.replay_range``: ``(path, start, end, bytes)``, largest first; ``start`` and
    ``end`` are ``None`` for a file read whole (gzip, delivery files, arrays, JSON Lines
    up to ``task_bytes``), raw byte ranges of at most ``task_bytes`` for larger JSON Lines
    files. Also the paths that could not be listed, ``(file, place, message)``, and those
    skipped on purpose, ``(path, reason)``."""
