"""Normalising a forwarded claim before it is matched against known cases.

``normalize(text)`` gives the comparable form of a message: Unicode NFKC, lower case, emoji
and punctuation gone, letters repeated three times or more cut to one ("pentiiing" ->
"penting"), cheap Indonesian slang spellings expanded ("yg" -> "yang", see ``SLANG``), the
forwarding boilerplate of chain messages dropped ("sebarkan!!", "viralkan", "dari grup
sebelah", "forwarded many times", ... see ``BOILERPLATE``) and whitespace collapsed. Links
stay in the text, each in the form ``normalize_url`` gives it, where the message had it.

``normalize_url(url)`` drops the scheme, ``www.`` (and ``m.`` / ``mobile.``), the default
port, the fragment, a trailing slash and tracking parameters (``utm_*``, ``fbclid``,
``gclid``, ``igshid``, ``si``, ``ref``, ``s`` on twitter.com / x.com, ...), lower-cases the
host (never the path: paths are case-sensitive) and sorts the remaining parameters. Links
of known shorteners (bit.ly, s.id, t.co, tinyurl.com, wa.me, ...) are kept as they are
(only scheme and ``www.`` go): nothing here touches the network, so a short link is never
expanded and matches only the same short link.

``fingerprint(text)`` is the first 32 hex digits of the SHA-256 of ``normalize(text)``: two
messages that differ only in case, emoji, punctuation, slang spellings, boilerplate or
tracking parameters have the same fingerprint (the exact match).
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from urllib.parse import parse_qsl, urlencode, urlsplit

# --------------------------------------------------------------------------------------------
# links
# --------------------------------------------------------------------------------------------

# top-level domains a link without a scheme ("bit.ly/abc", "s.id/x", "kompas.com/...") ends in
_BARE_TLDS = (
    "com|id|ly|co|me|net|org|io|info|biz|gov|edu|tv|news|link|app|xyz|site|online|top|"
    "my|sg|us|uk|gl|to|at|in|be|ac|sch|go|or|web|ponpes|desa|mil"
)
_URL_RE = re.compile(
    r"(?:https?://|www\.)[^\s<>\"']+"
    r"|\b(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+(?:" + _BARE_TLDS + r")\b(?:/[^\s<>\"']*)?",
    re.IGNORECASE,
)
_URL_TRAILING = ".,;:!?)]}'\"»…"

SHORTENERS = frozenset({
    "bit.ly", "s.id", "t.co", "tinyurl.com", "wa.me", "goo.gl", "cutt.ly", "shorturl.at",
    "lnkd.in", "ow.ly", "is.gd", "rebrand.ly", "t.ly", "v.gd", "buff.ly", "tiny.cc",
    "linktr.ee", "bitly.com", "rb.gy", "shope.ee", "vt.tiktok.com", "vm.tiktok.com",
})
_HOST_PREFIXES = ("www.", "m.", "mobile.")
# tracking parameters, on every host (names compared in lower case)
TRACKING_PARAMS = frozenset({
    "fbclid", "gclid", "dclid", "gbraid", "wbraid", "msclkid", "yclid", "igshid", "igsh",
    "si", "ref", "ref_src", "ref_url", "referrer", "mc_cid", "mc_eid", "_ga", "_gl",
    "mibextid", "rdid", "share_id", "sharer_id", "feature", "is_from_webapp",
    "sender_device", "sender_web_id", "__cft__", "__tn__", "spm",
})
_TRACKING_PREFIXES = ("utm_", "__cft__", "ga_", "hsa_")
# parameters that track only on some hosts (elsewhere they may carry the content)
_HOST_TRACKING = {
    "twitter.com": frozenset({"s", "t"}),
    "x.com": frozenset({"s", "t"}),
}


MIN_CHARS = 8  # normalised texts shorter than this are not matched

def _host_key(host: str) -> str:
    for prefix in _HOST_PREFIXES:
        if host.startswith(prefix) and host.count(".") >= 2:
            return host[len(prefix):]
    return host


def normalize_url(url: str) -> str:
    """The comparable form of a link: ``host/path?sorted&params``, without scheme, ``www.``,
    fragment, trailing slash or tracking parameters; a shortener's link kept as it is."""
    url = url.strip().rstrip(_URL_TRAILING)
    if not re.match(r"^[a-z][a-z0-9+.-]*://", url, re.IGNORECASE):
        url = "http://" + url
    try:
        parts = urlsplit(url)
        host = (parts.hostname or "").lower().rstrip(".")
        port = parts.port
    except ValueError:  # a broken port or bracket: keep the text, minus the scheme
        return re.sub(r"^[a-z][a-z0-9+.-]*://(?:www\.)?", "", url, flags=re.IGNORECASE)
    if host.startswith("www.") and host.count(".") >= 2:
        host = host[4:]
    if host in SHORTENERS:
        rest = url.split("://", 1)[1].split("/", 1)
        tail = rest[1] if len(rest) > 1 else ""
        return (host + "/" + tail).rstrip("/") if tail else host
    host = _host_key(host)
    if port is not None and port not in (80, 443):
        host = f"{host}:{port}"
    path = re.sub(r"/{2,}", "/", parts.path).rstrip("/")
    local = _HOST_TRACKING.get(host, frozenset())
    kept = sorted(
        (k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)
        if (name := k.lower()) not in TRACKING_PARAMS and name not in local
        and not name.startswith(_TRACKING_PREFIXES)
    )
    query = urlencode(kept)
    return host + path + ("?" + query if query else "")


def _url_spans(text: str) -> list[tuple[int, int, str]]:
    spans = []
    for m in _URL_RE.finditer(text):
        raw = m.group(0)
        stripped = raw.rstrip(_URL_TRAILING)
        if stripped.count("(") < stripped.count(")"):
            stripped = stripped.rstrip(")")
        if not stripped:
            continue
        spans.append((m.start(), m.start() + len(stripped), stripped))
    return spans


def urls(text: str) -> list[str]:
    """The links in a text, normalised (``normalize_url``), in order, without repeats."""
    text = unicodedata.normalize("NFKC", text or "")
    return list(dict.fromkeys(normalize_url(raw) for _, _, raw in _url_spans(text)))


# --------------------------------------------------------------------------------------------
# words
# --------------------------------------------------------------------------------------------

# cheap slang and abbreviations of Indonesian chats -> the dictionary spelling
SLANG = {
    "yg": "yang", "utk": "untuk", "untk": "untuk", "dg": "dengan", "dgn": "dengan",
    "tdk": "tidak", "gak": "tidak", "ga": "tidak", "nggak": "tidak", "ngga": "tidak",
    "enggak": "tidak", "gk": "tidak", "tak": "tidak", "krn": "karena",
    "karna": "karena", "sdh": "sudah", "udah": "sudah", "udh": "sudah", "blm": "belum",
    "jgn": "jangan", "sy": "saya", "bs": "bisa", "org": "orang",
    "dr": "dari", "kpd": "kepada", "tsb": "tersebut", "spt": "seperti", "sprt": "seperti",
    "kalo": "kalau", "klo": "kalau", "kl": "kalau", "jd": "jadi", "jdi": "jadi",
    "tp": "tapi", "tpi": "tapi", "sm": "sama", "aja": "saja", "aj": "saja", "lg": "lagi",
    "sj": "saja", "bgt": "banget", "dlm": "dalam", "pd": "pada", "kmrn": "kemarin",
    "skrg": "sekarang", "skrng": "sekarang", "hrs": "harus", "msh": "masih",
    "trs": "terus", "trus": "terus", "dpt": "dapat", "bnyk": "banyak", "byk": "banyak",
    "sbg": "sebagai", "sblm": "sebelum", "stlh": "setelah", "ttg": "tentang",
    "thd": "terhadap", "mrk": "mereka", "kt": "kita", "kmu": "kamu",
    "sdr": "saudara", "bpk": "bapak", "tlg": "tolong",
    "mhn": "mohon", "pls": "tolong", "gmn": "bagaimana",
    "gimana": "bagaimana", "knp": "kenapa", "emg": "memang", "emang": "memang",
    "bnr": "benar", "bener": "benar", "kluarga": "keluarga", "klrg": "keluarga",
    "sluruh": "seluruh", "slrh": "seluruh", "tgl": "tanggal", "hr": "hari",
    "dll": "dan lain lain", "dsb": "dan sebagainya", "bkn": "bukan", "ato": "atau",
    "atw": "atau", "ad": "ada", "sampe": "sampai", "smp": "sampai", "dri": "dari",
    "krna": "karena", "sgt": "sangat", "skt": "sakit", "rs": "rumah sakit",
    "pemda": "pemerintah daerah", "pemkot": "pemerintah kota", "pemkab": "pemerintah kabupaten",
}

# forwarding boilerplate, as normalised word sequences (after slang expansion); the longest
# first so that "copas dari grup sebelah" goes before "dari grup sebelah"
BOILERPLATE = (
    "forwarded many times", "forwarded as received", "forwarded", "diteruskan berkali kali",
    "pesan berantai",
    "mohon disebarluaskan", "mohon disebarkan", "mohon diviralkan", "mohon dishare",
    "mohon share", "mohon diteruskan", "mohon bantu sebarkan", "mohon bantu share",
    "tolong disebarluaskan", "tolong disebarkan", "tolong sebarkan", "tolong share",
    "tolong diteruskan", "tolong viralkan", "bantu sebarkan", "bantu share", "bantu viralkan",
    "disebarluaskan", "sebarluaskan", "sebarkan", "disebarkan", "viralkan", "diviralkan",
    "share ke semua grup", "share ke grup lain", "share ke grup", "share ke semua",
    "share ke keluarga", "bagikan ke grup lain", "bagikan ke grup", "bagikan ke semua",
    "teruskan ke grup lain", "teruskan ke semua grup", "teruskan ke keluarga",
    "teruskan ke semua",
    "copas dari grup sebelah", "copas dari grup lain", "copas dari grup", "copas dari wa",
    "copy paste dari grup sebelah", "copy paste dari grup", "copy paste", "copas",
    "info dari grup sebelah", "dari grup sebelah", "dari grup lain", "dari grup wa sebelah",
    "grup sebelah", "info a1", "a1 info",
    "jangan berhenti di anda", "jangan berhenti di kamu", "jangan berhenti di tangan anda",
    "sebelum dihapus", "sebelum dihapus pemerintah", "sebelum terlambat",
    "please share", "pls share", "share this", "share it", "spread the word",
    "share", "repost",
)
_BOILERPLATE_BY_FIRST: dict[str, list[tuple[str, ...]]] = {}
for _phrase in sorted(BOILERPLATE, key=lambda p: -len(p.split())):
    _words_of = tuple(_phrase.split())
    _BOILERPLATE_BY_FIRST.setdefault(_words_of[0], []).append(_words_of)
_NON_WORD_RE = re.compile(r"[^\w\s]|_")  # punctuation, symbols, emoji (not letters/digits)
_TRIPLE_RE = re.compile(r"(.)\1\1")  # a cheap test before the next one
_REPEAT_RE = re.compile(r"([^\W\d])\1{2,}")  # 3+ of a letter: padding, "pentiiing"
_REDUP_RE = re.compile(r"^([^\W\d_]{2,})2$")  # "hati2" -> "hati hati" (as "hati-hati")
_URL_GATE_RE = re.compile(r"://|www\.|\w\.[a-z]{2,}", re.IGNORECASE)


def _tokens(segment: str) -> list[str]:
    segment = _NON_WORD_RE.sub(" ", segment)
    if _TRIPLE_RE.search(segment):
        segment = _REPEAT_RE.sub(r"\1", segment)
    out: list[str] = []
    for token in segment.split():
        token = SLANG.get(token, token)
        if token[-1] == "2" and (m := _REDUP_RE.match(token)):
            out += (m.group(1), m.group(1))
        else:
            out.append(token)
    return out


def _drop_boilerplate(tokens: list[str]) -> list[str]:
    out: list[str] = []
    i, n = 0, len(tokens)
    while i < n:
        phrases = _BOILERPLATE_BY_FIRST.get(tokens[i])
        if phrases:
            for phrase in phrases:
                if tuple(tokens[i:i + len(phrase)]) == phrase:
                    i += len(phrase)
                    break
            else:
                out.append(tokens[i])
                i += 1
        else:
            out.append(tokens[i])
            i += 1
    return out


def normalize(text: str) -> str:
    """The comparable form of a message (see the module docstring)."""
    if not text:
        return ""
    text = unicodedata.normalize("NFKC", text)
    spans = _url_spans(text) if _URL_GATE_RE.search(text) else []
    tokens: list[str] = []
    pos = 0
    for start, end, raw in spans:
        tokens += _tokens(text[pos:start].lower())
        tokens.append(normalize_url(raw))
        pos = end
    tokens += _tokens(text[pos:].lower())
    return " ".join(_drop_boilerplate(tokens))


def fingerprint(text: str) -> str:
    """A stable hash (32 hex digits of SHA-256) of ``normalize(text)``: the exact match."""
    return hashlib.sha256(normalize(text).encode("utf-8")).hexdigest()[:32]
