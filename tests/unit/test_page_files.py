"""book_sphinx.page_files: a page's own static files, and data: downloads written as files."""

import base64

import pytest
from book_sphinx.page_files import decode, extract_downloads


def test_a_data_download_becomes_a_file_next_to_the_page(tmp_path):
    payload = base64.b64encode(b"a,b\n1,2\n").decode()
    body = (
        f'<p>Get it: <a download="table.csv" href="data:text/csv;charset=utf-8;base64,{payload}">'
        "CSV</a></p>"
    )
    rewritten, written = extract_downloads(body, tmp_path / "appendix")
    assert rewritten == '<p>Get it: <a download="table.csv" href="table.csv">CSV</a></p>'
    assert written == [tmp_path / "appendix" / "table.csv"]
    assert written[0].read_bytes() == b"a,b\n1,2\n"


def test_other_links_and_images_are_left_alone(tmp_path):
    body = (
        '<a href="data:text/plain,hi">no download attribute</a>'
        '<img src="data:image/png;base64,AAAA"><a download="x.txt" href="x.txt">file</a>'
    )
    assert extract_downloads(body, tmp_path) == (body, [])


def test_percent_encoded_payloads_and_bad_base64():
    assert decode("text/plain", "a%2Cb") == b"a,b"
    with pytest.raises(ValueError, match="base64"):
        decode("text/csv;base64", "not base64!")
