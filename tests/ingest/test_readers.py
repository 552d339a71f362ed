"""Reading uploads: formats, encodings, delimiters, line numbers and one-line rejections."""

from __future__ import annotations

import codecs
import datetime as dt
import hashlib
import io
import json
import pickle
import subprocess
import sys
import textwrap
from pathlib import Path

import polars as pl
import pytest
import xlsxwriter

from hrss_fraud.ingest.errors import Reason, UploadError
from hrss_fraud.ingest.readers import (
    RawUpload,
    file_sha256,
    iter_batches,
    materialize,
    open_upload,
    read_together,
)

HEADER_CN = "费用明细流水号,人员编号,医药机构目录名称,金额"
ROWS_CN = ["1,0001,阿莫西林胶囊,12.50", "2,0002,头孢克肟片,8.00", "3,0003,葡萄糖注射液,3.20"]


def write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def rejected(path: Path, **kw: object) -> UploadError:
    with pytest.raises(UploadError) as info:
        raw = open_upload(path, **kw)  # type: ignore[arg-type]
        try:
            materialize(raw)
        finally:
            raw.close()
    return info.value


def cn_csv(sep: str = ",") -> str:
    return "\n".join([HEADER_CN, *ROWS_CN]).replace(",", sep) + "\n"


def assert_cn_rows(raw: RawUpload) -> None:
    df = materialize(raw)
    assert raw.header == ["费用明细流水号", "人员编号", "医药机构目录名称", "金额"]
    assert df.columns == ["_line", *raw.header]
    assert df.schema["_line"] == pl.UInt32
    assert all(df.schema[c] == pl.String for c in raw.header)
    assert df["_line"].to_list() == [2, 3, 4]
    assert df["人员编号"].to_list() == ["0001", "0002", "0003"]
    assert df["医药机构目录名称"][0] == "阿莫西林胶囊"
    assert df["金额"].to_list() == ["12.50", "8.00", "3.20"]


# --------------------------------------------------------------------------- CSV encodings


def test_utf8_is_read_in_place_without_a_temp_file(tmp_path: Path) -> None:
    src = write(tmp_path / "u.csv", cn_csv().encode())
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    with open_upload(src, tmp_dir=scratch) as raw:
        assert (raw.kind, raw.encoding, raw.delimiter, raw.sheet) == ("csv", "utf-8", ",", None)
        assert raw._tmp is None and raw._source == src
        assert_cn_rows(raw)
        assert list(scratch.iterdir()) == []


def test_utf8_bom_is_stripped_from_the_header(tmp_path: Path) -> None:
    src = write(tmp_path / "bom.csv", b"\xef\xbb\xbf" + cn_csv().replace("\n", "\r\n").encode())
    with open_upload(src) as raw:
        assert raw.encoding == "utf-8-sig"
        assert_cn_rows(raw)


def test_gbk_is_transcoded_to_a_temp_file_removed_on_close(tmp_path: Path) -> None:
    src = write(tmp_path / "gbk.csv", cn_csv().encode("gbk"))
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    with open_upload(src, tmp_dir=scratch) as raw:
        assert raw.encoding == "gbk"
        assert_cn_rows(raw)
        assert len(list(scratch.iterdir())) == 1
    assert list(scratch.iterdir()) == []


def test_gbk_whose_first_characters_happen_to_be_valid_utf8(tmp_path: Path) -> None:
    # 医 is D2 BD in GBK: also a valid two-byte UTF-8 sequence. Still GBK, not "mixed".
    text = "医疗机构,金额\n卫生院,1\n"
    src = write(tmp_path / "gbk2.csv", text.encode("gbk"))
    with open_upload(src) as raw:
        assert raw.encoding == "gbk"
        assert materialize(raw)["医疗机构"].to_list() == ["卫生院"]


@pytest.mark.parametrize("char", ["㐀", "𠀀"])
def test_gb18030_beyond_gbk(tmp_path: Path, char: str) -> None:
    text = f"姓名,编号\n张三,1\n李{char},2\n"
    with pytest.raises(UnicodeEncodeError):
        text.encode("gbk")
    src = write(tmp_path / "gb18030.csv", text.encode("gb18030"))
    with open_upload(src) as raw:
        assert raw.encoding == "gb18030"
        df = materialize(raw)
    assert df["姓名"].to_list() == ["张三", f"李{char}"]
    assert df["_line"].to_list() == [2, 3]


def test_utf8_then_gbk_is_mixed_encoding_at_the_switch(tmp_path: Path) -> None:
    lines = [HEADER_CN, *ROWS_CN, "4,0004,维生素C片,1.00", "5,0005,布洛芬缓释胶囊,2.00"]
    data = ("\n".join(lines[:3]) + "\n").encode() + ("\n".join(lines[3:]) + "\n").encode("gbk")
    err = rejected(write(tmp_path / "mixed.csv", data))
    assert err.reason == Reason.MIXED_ENCODING == "mixed_encoding"
    assert err.line == 4


def test_bytes_that_no_encoding_accepts_are_undecodable(tmp_path: Path) -> None:
    err = rejected(write(tmp_path / "bin.csv", b"a,b\n1,2\n3,\xff\xfe\xff\n"))
    assert (err.reason, err.line) == ("undecodable", 3)


# --------------------------------------------------------------------------- CSV shape


@pytest.mark.parametrize(("sep", "name"), [("\t", "tab"), ("|", "pipe")])
def test_tab_and_pipe_delimiters(tmp_path: Path, sep: str, name: str) -> None:
    src = write(tmp_path / f"{name}.txt", cn_csv(sep).encode())
    with open_upload(src) as raw:
        assert raw.delimiter == sep
        assert_cn_rows(raw)


def test_header_without_delimiter_is_one_column(tmp_path: Path) -> None:
    src = write(tmp_path / "semi.csv", b"a;b;c\n1;2,5;3\n4;5;6\n")
    with open_upload(src) as raw:
        assert raw.delimiter is None
        assert raw.header == ["a;b;c"]
        assert materialize(raw)["a;b;c"].to_list() == ["1;2,5;3", "4;5;6"]


def test_header_names_are_stripped_and_blank_names_numbered(tmp_path: Path) -> None:
    src = write(tmp_path / "h.csv", b' a ,"b ",\n1,2,3\n')
    with open_upload(src) as raw:
        assert raw.header == ["a", "b", "column_3"]


def test_duplicate_column(tmp_path: Path) -> None:
    err = rejected(write(tmp_path / "dup.csv", b"a,b, a\n1,2,3\n"))
    assert err.reason == "duplicate_column"
    assert "'a'" in err.message


@pytest.mark.parametrize("data", [b"", b"\xef\xbb\xbf", b"  \r\n\n\t"])
def test_empty_file(tmp_path: Path, data: bytes) -> None:
    assert rejected(write(tmp_path / "empty.csv", data)).reason == "empty_file"


@pytest.mark.parametrize("data", [b"a,b,c\n", b"a,b,c", b"a,b,c\r\n\r\n  \n"])
def test_header_only_is_no_rows(tmp_path: Path, data: bytes) -> None:
    err = rejected(write(tmp_path / "h.csv", data))
    assert (err.reason, err.line) == ("no_rows", 1)


def test_ragged_row_names_its_physical_line(tmp_path: Path) -> None:
    data = b'a,b,c\n1,2,3\n4,"multi\nline",6\n7,8,9,x,y\n10,11,12\n'
    src = write(tmp_path / "ragged.csv", data)
    raw = open_upload(src)  # cheap: the row is only found when rows are read
    err = rejected(src)
    assert (err.reason, err.line) == ("ragged_row", 5)
    assert "5 fields" in err.message
    with pytest.raises(UploadError) as info:
        list(iter_batches(raw, rows=2))
    assert (info.value.reason, info.value.line) == ("ragged_row", 5)


def test_short_rows_are_marked_and_blank_lines_dropped(tmp_path: Path) -> None:
    """A row with fewer fields than the header is padded by polars: it carries ``_fields``
    (how many it had) so validation quarantines it instead of accepting the padding."""
    src = write(tmp_path / "short.csv", b"\na,b,c\n1,2,3\n\n4,5\n")
    with open_upload(src) as raw:
        df = materialize(raw)
    assert df["_line"].to_list() == [3, 5]
    assert df.row(0) == (3, "1", "2", "3", None)
    assert df.row(1) == (5, "4", "5", None, 2)


def test_rows_of_full_width_are_not_marked(tmp_path: Path) -> None:
    """Empty last fields (``6,,``) are values, not missing fields; no ``_fields`` column."""
    src = write(tmp_path / "full.csv", b"a,b,c\n1,2,3\n6,,\n")
    with open_upload(src) as raw:
        df = materialize(raw)
    assert "_fields" not in df.columns and df.height == 2


@pytest.mark.parametrize(
    ("data", "short"),
    [
        # a line break inside quotes is one record; the short row after it is still found
        (b'a,b,c\n"x\ny",2,3\n4,5\n', {3: 2}),
        # CRLF, a blank line, a doubled quote, a quote inside an unquoted field
        (b'a,b,c\r\n1,"p""q",3\r\n\r\n4\r\n5,a"b,c"d\r\n', {4: 1}),
        # blank lines before the header shift every line number
        (b"\n  \na,b,c\n1,2,3\n4,5\n", {5: 2}),
        # the last line cut short, without its newline
        (b"a|b|c\n1|2|3\n4|5", {3: 2}),
        # a field far longer than a parse block (refused later, by validation)
        (b"a,b,c\n1,2," + b"x" * (17 << 20) + b"\n3,4\n", {3: 2}),
    ],
)
def test_short_rows_are_found_where_polars_puts_them(
    tmp_path: Path, data: bytes, short: dict[int, int]
) -> None:
    src = write(tmp_path / "s.csv", data)
    with open_upload(src) as raw:
        df = materialize(raw)
        batches = pl.concat(list(iter_batches(raw, rows=1)), how="diagonal")
    for frame in (df, batches):
        marked = frame.filter(pl.col("_fields").is_not_null())
        assert dict(zip(marked["_line"], marked["_fields"], strict=True)) == short


def test_short_rows_are_marked_when_read_together(tmp_path: Path) -> None:
    a = write(tmp_path / "a.csv", b"a,b,c\n1,2,3\n")
    b = write(tmp_path / "b.csv", b"a,b,c\n1,2,3\n4\n")
    raws = [open_upload(a), open_upload(b)]
    try:
        df = read_together(raws, "_file")
    finally:
        for r in raws:
            r.close()
    assert df.filter(pl.col("_fields").is_not_null()).select(
        "_file", "_line", "_fields"
    ).rows() == [(str(b), 3, 1)]


def test_iter_batches_streams_a_file_larger_than_one_batch(tmp_path: Path) -> None:
    n = 25_000
    body = "".join(f"{i},{i:06d}\n" for i in range(n))
    src = write(tmp_path / "big.csv", ("id,psn_no\n" + body).encode())
    with open_upload(src) as raw:
        batches = list(iter_batches(raw, rows=10_000))
    assert len(batches) >= 3
    assert all(b.height <= 10_000 for b in batches)
    df = pl.concat(batches)
    assert df["_line"].to_list() == list(range(2, n + 2))
    assert df["psn_no"][0] == "000000"


@pytest.mark.slow
def test_large_gbk_file_is_transcoded_with_bounded_memory(tmp_path: Path) -> None:
    src = tmp_path / "big_gbk.csv"
    row = "{i},1301231985091900{j:02d},阿莫西林胶囊（0.25g*24粒）,乡镇卫生院门诊,12.50\n"
    with open(src, "wb") as f:
        f.write("序号,证件号码,医药机构目录名称,科室,金额\n".encode("gbk"))
        block = "".join(row.format(i=i, j=i % 100) for i in range(20_000)).encode("gbk")
        while f.tell() < 50 << 20:
            f.write(block)
    script = textwrap.dedent(
        f"""
        import resource, sys
        from pathlib import Path
        from hrss_fraud.ingest.readers import open_upload
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        raw = open_upload(Path({str(src)!r}), tmp_dir=Path({str(tmp_path)!r}))
        after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        assert raw.encoding == "gbk" and raw._tmp is not None and raw._tmp.exists()
        raw.close()
        print((after - before) // 1024)
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    ).stdout
    growth_mb = int(out.split()[-1])
    assert growth_mb < 150, f"transcoding grew peak RSS by {growth_mb} MB"


# --------------------------------------------------------------------------- XLSX


def _workbook(path: Path, fill: object) -> Path:
    wb = xlsxwriter.Workbook(str(path))
    fill(wb)  # type: ignore[operator]
    wb.close()
    return path


def test_xlsx_ids_numbers_and_dates_come_back_as_stored_text(tmp_path: Path) -> None:
    def fill(wb: xlsxwriter.Workbook) -> None:
        wb.add_worksheet("空表")  # the first sheet with data is read
        ws = wb.add_worksheet("参保人员")
        when = wb.add_format({"num_format": "yyyy-mm-dd hh:mm"})
        ws.write_row(2, 1, [" 人员编号 ", "证件号码", "出生日期", "金额", "混合", "文本"])  # B3
        ws.write_number(3, 1, 1)  # psn_no 0001 lost its zeros
        ws.write_number(3, 2, 1.30123198509190003e17)  # certno in scientific notation
        ws.write_datetime(3, 3, dt.datetime(1985, 9, 19, 8, 30), when)
        ws.write_number(3, 4, 12.5)
        ws.write_string(3, 5, "130123198509190276")  # stored as text: kept exactly
        ws.write_number(5, 1, 130123000000000276.0)  # row 6; row 5 is empty
        ws.write_string(5, 2, "0002")
        ws.write_number(5, 4, 0.1 + 0.2)
        ws.write_number(5, 5, 130123000000000276.0)  # a number in a text column
        ws.write_string(3, 6, "130123000000000304")  # text only: never re-read as numbers
        ws.write_string(5, 6, "130123198509190276")

    src = _workbook(tmp_path / "ids.xlsx", fill)
    with open_upload(src) as raw:
        assert (raw.kind, raw.sheet, raw.encoding, raw.delimiter) == (
            "xlsx",
            "参保人员",
            None,
            None,
        )
        assert raw.header == ["人员编号", "证件号码", "出生日期", "金额", "混合", "文本"]
        df = materialize(raw)
    assert df["_line"].to_list() == [4, 6]
    assert df["人员编号"].to_list() == ["1", "130123000000000300"]
    assert df["证件号码"].to_list() == ["130123198509190000", "0002"]
    assert df["出生日期"].to_list() == ["1985-09-19 08:30:00", None]
    assert df["金额"].to_list() == ["12.5", "0.3"]  # xlsxwriter stores 16 digits
    assert df["混合"].to_list() == ["130123198509190276", "130123000000000300"]
    assert df["文本"].to_list() == ["130123000000000304", "130123198509190276"]


def test_xlsx_header_only_and_empty_workbook(tmp_path: Path) -> None:
    def header_only(wb: xlsxwriter.Workbook) -> None:
        wb.add_worksheet().write_row(0, 0, ["a", "b"])

    def empty(wb: xlsxwriter.Workbook) -> None:
        wb.add_worksheet()

    err = rejected(_workbook(tmp_path / "h.xlsx", header_only))
    assert (err.reason, err.line) == ("no_rows", 1)
    assert rejected(_workbook(tmp_path / "e.xlsx", empty)).reason == "empty_file"


def test_truncated_xlsx_is_corrupt(tmp_path: Path) -> None:
    def fill(wb: xlsxwriter.Workbook) -> None:
        ws = wb.add_worksheet()
        for r in range(200):
            ws.write_row(r, 0, [f"r{r}", r, r * 1.5])

    good = _workbook(tmp_path / "good.xlsx", fill).read_bytes()
    src = write(tmp_path / "truncated.xlsx", good[: len(good) // 2])
    assert rejected(src).reason == "corrupt_xlsx"
    assert rejected(write(tmp_path / "fake.xlsx", b"a,b\n1,2\n")).reason == "corrupt_xlsx"


def test_encrypted_xlsx(tmp_path: Path) -> None:
    ooxml = pytest.importorskip("msoffcrypto.format.ooxml", reason="needs msoffcrypto-tool")

    def fill(wb: xlsxwriter.Workbook) -> None:
        wb.add_worksheet().write_row(0, 0, ["a", "b"])

    plain = _workbook(tmp_path / "plain.xlsx", fill)
    out = io.BytesIO()
    with open(plain, "rb") as f:
        ooxml.OOXMLFile(f).encrypt("secret", out)
    data = out.getvalue()
    assert rejected(write(tmp_path / "locked.xlsx", data)).reason == "encrypted_xlsx"
    # Even renamed, the EncryptionInfo stream gives it away.
    assert rejected(write(tmp_path / "locked.bin", data)).reason == "encrypted_xlsx"


def test_old_xls_is_unsupported(tmp_path: Path) -> None:
    src = write(tmp_path / "old.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 1024)
    assert rejected(src).reason == "unsupported_format"


# --------------------------------------------------------------------------- JSON


FEE = [
    {"feedetl_sn": "F001", "cnt": 2, "pric": 12.5, "det_item_fee_sumamt": 25.0, "memo": None},
    {"feedetl_sn": "F002", "cnt": 1.0, "pric": 0.30, "psn_no": 130123198509190276, "ok": True},
]


@pytest.mark.parametrize(
    "doc",
    [
        FEE,
        {"data": FEE},
        {"infno": "2301", "input": {"feedetail": FEE}},
        {"infno": "2301", "input": {"rows": FEE}},
    ],
    ids=["array", "data", "platform-2301", "input-rows"],
)
def test_json_shapes(tmp_path: Path, doc: object) -> None:
    src = write(tmp_path / "msg.json", json.dumps(doc, indent=1).encode())
    with open_upload(src) as raw:
        assert raw.kind == "json"
        assert raw.header == [
            "feedetl_sn",
            "cnt",
            "pric",
            "det_item_fee_sumamt",
            "memo",
            "psn_no",
            "ok",
        ]
        df = materialize(raw)
    assert df["_line"].to_list() == [1, 2]
    assert df["cnt"].to_list() == ["2", "1"]
    assert df["pric"].to_list() == ["12.5", "0.3"]
    assert df["det_item_fee_sumamt"].to_list() == ["25", None]
    assert df["memo"].to_list() == [None, None]
    assert df["psn_no"].to_list() == [None, "130123198509190276"]
    assert df["ok"].to_list() == [None, "true"]


def test_bad_json_names_the_line(tmp_path: Path) -> None:
    err = rejected(write(tmp_path / "bad.json", b'[\n {"a": 1},\n {"a": 2,}\n]\n'))
    assert (err.reason, err.line) == ("bad_json", 3)
    err = rejected(write(tmp_path / "noarray.json", b'{"infno": "2301", "input": {}}'))
    assert err.reason == "bad_json"
    err = rejected(write(tmp_path / "scalars.json", b"[1, 2]"))
    assert (err.reason, err.line) == ("bad_json", 1)
    assert rejected(write(tmp_path / "none.json", b"[]")).reason == "no_rows"


# --------------------------------------------------------------------------- Parquet


def test_parquet_columns_become_text(tmp_path: Path) -> None:
    src = tmp_path / "p.parquet"
    pl.DataFrame(
        {
            "psn_no": ["0001", "0002"],
            "cnt": [2.0, 1.5],
            "n": [3, None],
            "when": [dt.datetime(2024, 1, 2, 3, 4, 5), None],
            "flag": [True, None],
        }
    ).write_parquet(src)
    with open_upload(src.rename(tmp_path / "upload.bin")) as raw:  # by content, not suffix
        assert raw.kind == "parquet"
        df = materialize(raw)
    assert df["_line"].to_list() == [1, 2]
    assert df.row(0) == (1, "0001", "2", "3", "2024-01-02 03:04:05", "true")
    assert df.row(1) == (2, "0002", "1.5", None, None, None)


def test_bad_parquet(tmp_path: Path) -> None:
    assert rejected(write(tmp_path / "x.parquet", b"PAR1garbage")).reason == "bad_parquet"


# --------------------------------------------------------------------------- paths, errors


def test_missing_path_and_directory(tmp_path: Path) -> None:
    assert rejected(tmp_path / "nope.csv").reason == "not_found"
    assert rejected(tmp_path).reason == "not_a_file"


def test_upload_error_is_one_line_with_path_and_reason(tmp_path: Path) -> None:
    err = UploadError(tmp_path / "a.csv", Reason.RAGGED_ROW, "row has\n5 fields", line=7)
    text = str(err)
    assert "\n" not in text
    assert text.startswith(str(tmp_path / "a.csv") + ": ")
    assert text.endswith("(ragged_row)")
    assert "line 7" in text
    again = pickle.loads(pickle.dumps(err))
    assert (str(again), again.reason, again.line) == (text, "ragged_row", 7)
    assert {r.value for r in Reason} >= {
        "not_found",
        "not_a_file",
        "empty_file",
        "no_rows",
        "unknown_layout",
        "mixed_encoding",
        "undecodable",
        "ragged_row",
        "corrupt_xlsx",
        "encrypted_xlsx",
        "bad_json",
        "bad_parquet",
        "unsupported_format",
        "path_escapes_inbox",
        "duplicate_column",
    }


def test_file_sha256(tmp_path: Path) -> None:
    data = b"x" * (3 << 20) + b"tail"
    src = write(tmp_path / "f.bin", data)
    assert file_sha256(src) == hashlib.sha256(data).hexdigest()


_UTF8_CASES = [
    b"",
    b"   \n\t",
    codecs.BOM_UTF8 + b"a,b\n",
    codecs.BOM_UTF8 + b" \n",
    "医,药\n1,阿莫西林\n".encode(),
    "医,药\n1,阿莫西林\n".encode("gbk"),
    b"a,b\n1,2\n" + "医".encode("gbk"),
    "名称,😀\n".encode() + b"\xe4\xb8",  # truncated last character
    b"a\xed\xa0\x80b",  # surrogate
    b"a\xc0\x80",  # overlong
    b"\xf4\x90\x80\x80",  # beyond U+10FFFF
    b"\x80abc",
    b"ab\xff",
    "ab中文\n".encode() * 5 + b"\xe4\xb8\xad\xe4",
]


@pytest.mark.parametrize("chunk", [1, 2, 3, 5, 7, 1 << 20])
def test_hash_and_utf8_check_in_one_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, chunk: int
) -> None:
    """The one-read check agrees with the exact check, whatever splits a character."""
    from hrss_fraud.ingest import readers

    monkeypatch.setattr(readers, "CHUNK", chunk)
    for i, data in enumerate(_UTF8_CASES):
        src = write(tmp_path / f"{i}.csv", data)
        sha, check = readers._hash_and_check(src)
        assert sha == hashlib.sha256(data).hexdigest()
        exact = readers._check_utf8(src)
        if check is None:
            assert not exact.valid, data
        else:
            assert exact.valid, data
            assert (check.bom, check.blank) == (exact.bom, exact.blank), data


# --------------------------------------------------------------------------- synth's malformed set


@pytest.mark.slow
def test_synth_malformed_uploads(tiny_county: Path) -> None:
    expected = json.loads((tiny_county / "malformed" / "expected.json").read_text("utf-8"))
    mine = {"empty_file", "no_rows", "mixed_encoding", "ragged_row", "corrupt_xlsx"}
    for name, case in expected.items():
        path = tiny_county / "malformed" / name
        if case["reason"] in mine:
            assert rejected(path).reason == case["reason"], name
        else:  # later layers judge these; the reader must open them
            with open_upload(path) as raw:
                assert materialize(raw).height > 0, name
