"""The claim-matching scenario: ``python -m bench match``.

In a child process of its own (so that its peak RSS is the index's, not the orchestrator's):
generate N realistic Indonesian chain messages (``--match-cases``, default 100,000; seeded),
build a :class:`bot.hoax.matching.ClaimIndex` from them (the "start" figure: what the bot does
at start-up from its stored cases), then match M new reports one by one (``--match-reports``,
default 2,000): half are variants of stored cases (typos, slang, boilerplate, emoji, sentences
in another order, a sentence dropped), half new messages from the same generator. Measured:
the build time, p50 / p99 per match, the process's peak RSS (VmHWM), and how often a variant
found the case it came from. The baseline, in the same child and the same run: a naive
``rapidfuzz.process.extractOne`` over all N normalised texts for a sample of the reports
(``--match-baseline``, default 50), its p50 printed beside ours.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import time
from typing import Any

from bench.common import PY, ROOT, JSONDict, fmt

# --------------------------------------------------------------------------------------------
# the corpus: chain messages from pieces (seeded)
# --------------------------------------------------------------------------------------------

PLACES = (
    "Bekasi", "Depok", "Bogor", "Tangerang", "Serang", "Cilegon", "Pandeglang", "Lebak",
    "Cikupa", "Balaraja", "Ciputat", "Pamulang", "Cibinong", "Cileungsi", "Karawang",
    "Purwakarta", "Subang", "Sumedang", "Garut", "Tasikmalaya", "Ciamis", "Cianjur",
    "Sukabumi", "Bandung", "Cimahi", "Cirebon", "Indramayu", "Kuningan", "Majalengka",
    "Semarang", "Solo", "Klaten", "Magelang", "Purwokerto", "Cilacap", "Tegal", "Pekalongan",
    "Kudus", "Jepara", "Pati", "Rembang", "Blora", "Yogyakarta", "Sleman", "Bantul",
    "Surabaya", "Sidoarjo", "Gresik", "Mojokerto", "Malang", "Batu", "Pasuruan",
    "Probolinggo", "Jember", "Banyuwangi", "Kediri", "Blitar", "Madiun", "Ngawi", "Tuban",
    "Lamongan", "Bojonegoro", "Medan", "Binjai", "Padang", "Bukittinggi", "Pekanbaru",
    "Dumai", "Jambi", "Palembang", "Bengkulu", "Lampung", "Metro", "Pontianak",
    "Singkawang", "Banjarmasin", "Samarinda", "Balikpapan", "Makassar", "Gowa", "Maros",
    "Manado", "Palu", "Kendari", "Gorontalo", "Ambon", "Ternate", "Jayapura", "Sorong",
    "Denpasar", "Mataram", "Kupang", "Cimuncang", "Kaligandu", "Kebon Jahe", "Lopang",
    "Sumur Pecung", "Kotabaru", "Unyur", "Kagungan", "Cipare", "Serang Baru", "Drangong",
    "Kalodran", "Walantaka", "Kasemen", "Taktakan", "Curug", "Cipocok Jaya", "Kramatwatu",
    "Ciruas", "Pontang", "Tirtayasa", "Anyer", "Cinangka", "Padarincang", "Baros",
    "Petir", "Pabuaran", "Kopo", "Jawilan", "Cikande", "Kibin", "Tanara", "Carenang",
    "Binuang", "Waringinkurung", "Mancak", "Gunungsari", "Bojonegara", "Puloampel",
    "Kelapa Dua", "Karawaci", "Cibodas", "Jatiuwung", "Periuk", "Neglasari", "Batuceper",
    "Benda", "Cipondoh", "Pinang", "Larangan", "Ciledug", "Karang Tengah",
)
INSTITUTIONS = (
    "BMKG", "PLN", "PDAM", "Dinkes", "Kemenkes", "BPBD", "Polres", "Polda", "Kodim",
    "Puskesmas", "RSUD", "Dinsos", "Kemensos", "BPJS", "Disdukcapil", "Pertamina",
    "Telkom", "Bank Indonesia", "OJK", "Pemkot", "Pemkab", "Kelurahan", "Kecamatan",
    "Basarnas", "Damkar", "Satpol PP", "Dishub", "BNN", "BPOM", "MUI",
)
THINGS = (
    "vaksin", "obat demam", "air galon", "beras plastik", "telur palsu", "mi instan",
    "minyak goreng", "gula pasir", "susu formula", "masker", "pembalut", "permen",
    "sayur kol", "ikan asin", "daging sapi", "ayam potong", "tahu", "bakso", "es teh",
    "kopi sachet", "jamu", "madu", "roti", "snack anak", "cilok", "seblak",
    "kue kering", "garam", "kecap", "saus sambal",
)
COLORS = ("putih", "hitam", "silver", "merah", "abu abu", "biru", "hijau", "kuning")
DAYS = ("Senin", "Selasa", "Rabu", "Kamis", "Jumat", "Sabtu", "Minggu")

OPENERS = (
    "", "", "", "Info penting!", "Assalamualaikum bapak ibu warga.", "Waspada!",
    "BREAKING NEWS.", "Kabar dari teman yang kerja di {inst}.", "Mohon perhatian warga.",
    "Innalillahi.", "Hati hati bapak ibu.", "Info valid dari grup RT.", "Darurat!",
    "Dapat kabar barusan.", "Untuk keluarga kita semua.", "Selamat pagi warga {place}.",
    "Berita terbaru hari ini.", "Peringatan keras.", "Perhatian untuk ibu ibu.",
    "Tolong dibaca sampai habis.", "Kejadian nyata.", "Ini bukan hoaks.",
)
CLAIMS = (
    "Akan ada pemadaman listrik total di {place} selama {n} jam mulai hari {day}.",
    "Air PDAM di {place} tercemar bakteri berbahaya, jangan diminum sampai hari {day}.",
    "{thing} yang dijual di pasar {place} mengandung bahan kimia berbahaya.",
    "Ada penculikan anak pakai mobil {color} di {place}, sudah {n} anak hilang minggu ini.",
    "Bantuan sosial Rp {n}00.000 dari {inst} bisa diambil di kantor pos {place}.",
    "Gempa besar {n} SR akan terjadi di {place} malam ini menurut {inst}.",
    "Tanggul di {place} jebol, banjir setinggi {n} meter akan datang dalam dua jam.",
    "Ada virus baru dari {thing}, sudah {n} orang meninggal di RSUD {place}.",
    "{inst} membagikan kuota internet gratis {n} GB lewat link pendaftaran.",
    "Petugas {inst} palsu keliling rumah di {place} menyemprot obat bius.",
    "Makan {thing} dan minum es bersamaan bisa menyebabkan kematian mendadak.",
    "Sekolah di {place} diliburkan {n} hari karena wabah baru.",
    "Jalan tol menuju {place} ditutup total mulai hari {day} sampai bulan depan.",
    "Minum air rebusan {thing} setiap pagi bisa menyembuhkan demam berdarah.",
    "Gas elpiji 3 kg akan ditarik dari peredaran di {place} mulai hari {day}.",
    "Ada orang gila membawa parang berkeliaran di pasar {place}.",
    "Harga beras naik jadi Rp {n}0.000 per kilo mulai hari {day} kata {inst}.",
    "Sumur warga di {place} mengeluarkan gas beracun, {n} orang pingsan.",
    "{inst} akan memblokir semua kartu SIM yang belum registrasi ulang hari {day}.",
    "Vaksin di puskesmas {place} sudah kedaluwarsa, {n} anak dirawat.",
    "Tsunami setinggi {n} meter akan menerjang pantai {place} besok pagi.",
    "Ada ular kobra masuk ke {n} rumah warga di {place} akibat banjir.",
    "Uang pecahan Rp {n}0.000 baru tidak berlaku lagi mulai hari {day}.",
    "Warga {place} yang punya BPJS dapat uang tunai Rp {n} juta dari {inst}.",
    "Pabrik di {place} membuang limbah ke sungai, ikan mati dan airnya beracun.",
    "{thing} kemasan dari {place} dicampur lilin dan plastik.",
    "Ada pencuri berpura pura jadi petugas {inst} di {place}, sudah {n} rumah dibobol.",
    "Gunung di dekat {place} akan meletus dalam {n} hari, warga diminta mengungsi.",
    "Pembagian sembako gratis dari {inst} di lapangan {place} hari {day} jam {n} pagi.",
    "Anak anak jangan jajan {thing} di sekolah, sudah {n} siswa keracunan di {place}.",
    "Rumah sakit di {place} menolak pasien BPJS mulai hari {day}.",
    "Listrik prabayar di {place} akan naik {n}0 persen bulan depan kata {inst}.",
    "Ada jarum suntik berisi virus ditaruh di kursi bioskop {place}.",
    "Daging babi dijual sebagai daging sapi di pasar {place}, sudah {n} kilo disita.",
    "Mulai hari {day} semua kendaraan di {place} wajib ganjil genap sampai malam.",
    "Nomor WhatsApp yang menelepon dari +{n}2 akan mencuri data rekening.",
    "Orang asing menempelkan stiker tanda di rumah warga {place} untuk target perampokan.",
    "Susu kental manis bukan susu dan menyebabkan {n} balita gizi buruk di {place}.",
    "Jembatan di {place} retak dan akan ambruk, jangan lewat mulai hari {day}.",
    "Petugas sensus {inst} meminta foto KTP dan kode OTP warga {place}.",
)
DETAILS = (
    "Ini sudah dikonfirmasi petugas {inst}.", "Tetangga saya sudah jadi korban.",
    "Saudara saya yang kerja di {inst} yang bilang.", "Beritanya belum keluar di TV.",
    "Pemerintah sengaja menutupi kabar ini.", "Jangan keluar rumah setelah magrib.",
    "Simpan nomor darurat {inst}.", "Sudah ada videonya tapi dihapus.",
    "Kejadiannya kemarin sore jam {n}.", "Sudah {n} orang lapor ke polisi.",
    "Tolong awasi anak anak kita.", "Siapkan air bersih dan senter.",
    "Segera isi bensin dan beli lilin.", "Jangan percaya kalau ada yang bilang hoaks.",
    "Kata dokter di RSUD {place} ini benar.", "Sudah ramai di grup warga {place}.",
    "Informasi ini dari orang dalam {inst}.", "Korban kebanyakan anak kecil dan lansia.",
    "Yang punya bayi harap lebih hati hati.", "Jangan sampai terlambat seperti kemarin.",
    "Stok di warung sudah mulai habis.", "Harap kunci pintu dan jendela rapat rapat.",
    "Semua RT sudah diberi tahu kecuali kita.", "Kalau tidak percaya tanya pak RT.",
    "Daftarnya paling lambat hari {day}.", "Kuotanya terbatas hanya {n}00 orang.",
    "Linknya ada di bawah ini.", "Syaratnya cukup foto KTP dan KK.",
    "Kabarnya sudah sampai ke {place} juga.", "Polisi sudah menangkap {n} orang.",
)
CTAS = (
    "", "", "Sebarkan!!", "Share ke grup keluarga.", "Mohon disebarluaskan.",
    "Viralkan!!!", "Jangan berhenti di Anda.", "Tolong sebarkan sebelum dihapus.",
    "Bagikan ke grup lain.", "Share ke semua grup ya.", "Semoga bermanfaat.",
    "Amankan keluarga kita.", "Mohon bantu share.",
)
LINKS = (
    "https://bit.ly/{code}", "https://s.id/{code}", "https://www.kompas-news.info/{code}/",
    "http://berita-terkini.xyz/read/{code}?utm_source=wa", "https://wa.me/62812{n}00",
)
EMOJI = ("🙏", "😱", "‼️", "⚠️", "🔥", "😭", "👇", "🚨")

# variant noise: the dictionary spelling -> what people type
SLANGIFY = {
    "yang": "yg", "untuk": "utk", "dengan": "dgn", "tidak": "gak", "karena": "krn",
    "sudah": "udah", "belum": "blm", "jangan": "jgn", "saya": "sy", "bisa": "bs",
    "orang": "org", "dari": "dr", "kepada": "kpd", "tersebut": "tsb", "seperti": "spt",
    "kalau": "klo", "sampai": "sampe", "hari": "hr", "harus": "hrs", "banyak": "byk",
}
BOILER = ("Sebarkan!!", "VIRALKAN!!!", "dari grup sebelah", "copas dari grup",
          "Forwarded many times", "mohon disebarluaskan", "share ke grup ya")


def _fill(template: str, rng: random.Random) -> str:
    return template.format(
        place=rng.choice(PLACES), inst=rng.choice(INSTITUTIONS),
        thing=rng.choice(THINGS).capitalize() if template.startswith("{thing}")
        else rng.choice(THINGS),
        color=rng.choice(COLORS), day=rng.choice(DAYS), n=rng.randint(2, 99),
        code="".join(rng.choice("abcdefghjkmnpqrstuvwxyzABCDEFGH23456789") for _ in range(6)))


def message(rng: random.Random) -> str:
    """One chain message: opener, claim, one to three details, maybe a link, a call."""
    parts = [_fill(rng.choice(OPENERS), rng), _fill(rng.choice(CLAIMS), rng)]
    parts += [_fill(d, rng) for d in rng.sample(DETAILS, rng.randint(1, 3))]
    if rng.random() < 0.2:
        parts.append(_fill(rng.choice(LINKS), rng))
    parts.append(rng.choice(CTAS))
    return " ".join(p for p in parts if p)


def _typo(word: str, rng: random.Random) -> str:
    if len(word) < 4 or not word.isalpha():
        return word
    i = rng.randrange(1, len(word) - 1)
    op = rng.randrange(3)
    if op == 0:  # swap two letters
        return word[:i] + word[i + 1] + word[i] + word[i + 2:]
    if op == 1:  # drop one
        return word[:i] + word[i + 1:]
    return word[:i] + word[i] + word[i:]  # double one


def variant(text: str, rng: random.Random) -> str:
    """What a neighbour forwards of it: slang, a few typos, boilerplate and emoji, shouting,
    sometimes the sentences in another order or one of them left out."""
    sentences = [s for s in text.replace("!", ".").split(". ") if s.strip()]
    if len(sentences) > 2 and rng.random() < 0.4:
        rng.shuffle(sentences)
    if len(sentences) > 3 and rng.random() < 0.2:
        sentences.pop(rng.randrange(len(sentences)))
    words = ". ".join(sentences).split()
    out = []
    for w in words:
        low = w.lower()
        if low in SLANGIFY and rng.random() < 0.6:
            w = SLANGIFY[low]
        elif rng.random() < 0.04:
            w = _typo(w, rng)
        out.append(w)
    body = " ".join(out)
    if rng.random() < 0.3:
        body = body.upper()
    if rng.random() < 0.6:
        body = f"{rng.choice(BOILER)} {rng.choice(EMOJI) * rng.randint(1, 4)} {body}"
    if rng.random() < 0.5:
        body = f"{body} {rng.choice(BOILER)}{'!' * rng.randint(0, 6)} " \
               f"{rng.choice(EMOJI) * rng.randint(1, 5)}"
    return body


def corpus(n: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    return [message(rng) for _ in range(n)]


# --------------------------------------------------------------------------------------------
# the measurement (in a child process: python -m bench.match --cases N ...)
# --------------------------------------------------------------------------------------------

SCENARIOS = ("match",)
MAX_P99_MS = 20.0
MAX_START_S = 10.0
MAX_RSS_MB = 300.0


def _status_mb(field: str) -> float | None:
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        return None
    return None


def _pct(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000, 3)


def measure(cases: int, reports: int, baseline: int, seed: int) -> dict[str, Any]:
    """Generate, build, match; then the naive baseline on a sample. One JSON-able dict."""
    from rapidfuzz import fuzz, process

    from bot.hoax.matching import ClaimIndex
    from bot.hoax.normalize import normalize

    rss_before = _status_mb("VmRSS")
    t0 = time.perf_counter()
    texts = corpus(cases, seed)
    generate_s = time.perf_counter() - t0
    index = ClaimIndex()
    t0 = time.perf_counter()
    index.build(enumerate(texts))
    build_s = time.perf_counter() - t0
    rng = random.Random(seed + 1)
    queries: list[tuple[int | None, str]] = []
    for k in range(reports):
        if k % 2 == 0:
            source = rng.randrange(cases)
            queries.append((source, variant(texts[source], rng)))
        else:
            queries.append((None, message(rng)))
    del texts  # the bot holds only the index
    times: list[float] = []
    kinds: dict[str, dict[str, int]] = {"variant": {}, "new": {}}
    found_first = found_any = 0
    tops: list[int | None] = []
    for source, text in queries:
        t0 = time.perf_counter()
        result = index.match(text)
        times.append(time.perf_counter() - t0)
        top = result[0].kind if result else "none"
        group = kinds["variant" if source is not None else "new"]
        group[top] = group.get(top, 0) + 1
        tops.append(result[0].case_id if result else None)
        if source is not None:
            found_first += bool(result) and result[0].case_id == source
            found_any += any(c.case_id == source for c in result)
    peak_mb = _status_mb("VmHWM")
    # baseline: normalise the report and score it against every stored text
    choices = [index.text(i) or "" for i in range(cases)]
    base_times: list[float] = []
    agree = 0
    sample = queries[: max(0, baseline)]
    for i, (_, text) in enumerate(sample):
        t0 = time.perf_counter()
        best = process.extractOne(normalize(text), choices, scorer=fuzz.token_sort_ratio,
                                  score_cutoff=index.similar * 100)
        base_times.append(time.perf_counter() - t0)
        agree += (best[2] if best else None) == tops[i] or (
            best is not None and tops[i] is not None
            and fuzz.token_sort_ratio(normalize(text), choices[tops[i]]) >= best[1])
    variants = (reports + 1) // 2
    return {
        "cases": cases, "reports": reports, "generate_s": round(generate_s, 2),
        "build_s": round(build_s, 2), "rss_before_mb": rss_before, "peak_rss_mb": peak_mb,
        "latency_ms": {"p50": _pct(times, 0.5), "p99": _pct(times, 0.99),
                       "max": _pct(times, 1.0)},
        "kinds": kinds,
        "variant_found_first_pct": round(100 * found_first / variants, 1) if variants else None,
        "variant_found_pct": round(100 * found_any / variants, 1) if variants else None,
        "baseline": {"reports": len(sample), "latency_ms": {"p50": _pct(base_times, 0.5),
                                                            "p99": _pct(base_times, 0.99)},
                     "same_best_pct": round(100 * agree / len(sample), 1) if sample else None},
    }


async def run(opts: argparse.Namespace) -> JSONDict:
    """The scenario, for bench/cli.py: the measurement in a child process of its own."""
    cases, reports, base = opts.match_cases, opts.match_reports, opts.match_baseline
    print(f"match: {cases} stored chain messages, {reports} new reports (half variants of "
          f"stored ones), baseline: rapidfuzz extractOne over all of them for {base} reports",
          flush=True)
    cmd = [PY, "-m", "bench.match", "--cases", str(cases), "--reports", str(reports),
           "--baseline", str(base), "--seed", str(opts.seed)]
    proc = await asyncio.create_subprocess_exec(
        *cmd, cwd=str(ROOT), stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await proc.communicate()
    if proc.returncode != 0:
        raise RuntimeError(f"bench.match exited with {proc.returncode}: "
                           f"{err.decode(errors='replace')[-1500:]}")
    r: JSONDict = json.loads(out.decode().strip().splitlines()[-1])
    lat, base_lat = r["latency_ms"], r["baseline"]["latency_ms"]
    print(f"    -> start (index build) {r['build_s']:.2f} s; per match p50 "
          f"{fmt(lat['p50'], '.2f')} ms, p99 {fmt(lat['p99'], '.2f')} ms (baseline "
          f"extractOne p50 {fmt(base_lat['p50'], '.1f')} ms); peak RSS {fmt(r['peak_rss_mb'])} MB "
          f"(before the corpus {fmt(r['rss_before_mb'])} MB)", flush=True)
    print(f"    .. variants: their case first {fmt(r['variant_found_first_pct'])} %, among the "
          f"answers {fmt(r['variant_found_pct'])} %; answers {r['kinds']}; our best = the "
          f"baseline's best in {fmt(r['baseline']['same_best_pct'])} % of its sample",
          flush=True)
    ok = (lat["p99"] is not None and lat["p99"] < MAX_P99_MS and r["build_s"] < MAX_START_S
          and r["peak_rss_mb"] is not None and r["peak_rss_mb"] < MAX_RSS_MB)
    return {"ours": r, "target": f"p99 < {MAX_P99_MS:g} ms, start < {MAX_START_S:g} s, "
                                 f"RSS < {MAX_RSS_MB:g} MB", "pass": ok}


DEFINITIONS = (
    "match: per match, the time of ClaimIndex.match (normalising the report, exact "
    "fingerprint, MinHash LSH candidates, rapidfuzz token_sort_ratio) in a child process; "
    "start: ClaimIndex.build over all stored cases (normalising, MinHash, LSH), not the "
    "generation of the corpus; peak RSS: the child's VmHWM after the matches (interpreter, "
    "corpus and index), before the baseline; baseline: normalising the report and "
    "rapidfuzz.process.extractOne over all normalised texts, same scorer and cutoff."
)


def table(results: dict[str, JSONDict]) -> str:
    head = (f"{'scenario':<9} {'cases':>7} {'start s':>8} {'p50 ms':>7} {'p99 ms':>7} "
            f"{'base p50':>9} {'RSS MB':>7} {'found %':>7}  target")
    lines = [head, "-" * len(head)]
    for name, res in results.items():
        if res.get("error"):
            lines.append(f"{name:<9} FAILED: {str(res['error']).splitlines()[0][:100]}")
            continue
        r = res["ours"]
        verdict = "-" if res.get("pass") is None else ("PASS" if res["pass"] else "MISS")
        lines.append(
            f"{name:<9} {r['cases']:>7} {fmt(r['build_s'], '.2f'):>8} "
            f"{fmt(r['latency_ms']['p50'], '.2f'):>7} {fmt(r['latency_ms']['p99'], '.2f'):>7} "
            f"{fmt(r['baseline']['latency_ms']['p50'], '.1f'):>9} {fmt(r['peak_rss_mb']):>7} "
            f"{fmt(r['variant_found_pct']):>7}  {verdict}  ({res['target']})")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.match",
                                description="The match scenario's measurement (one child).")
    p.add_argument("--cases", type=int, default=100_000)
    p.add_argument("--reports", type=int, default=2000)
    p.add_argument("--baseline", type=int, default=50)
    p.add_argument("--seed", type=int, default=1)
    a = p.parse_args(argv)
    print(json.dumps(measure(a.cases, a.reports, a.baseline, a.seed)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
