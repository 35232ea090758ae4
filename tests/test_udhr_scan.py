"""The UDHR declarations' fast reader (`udhr._scan`) against html.parser (`_DeclarationParser`): equal on
every shared declaration and on generated documents, and handing documents outside its subset to the parser;
the character counts behind the script detection and `corpus stats` equal a Counter's, order included."""

from collections import Counter

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tokkit.corpora.scripts import _char_counts, count_chars, dominant_script, script_counts
from tokkit.corpora.udhr import _DeclarationParser, _scan, parse_declaration
from tokkit.errors import InputError


def _parsed(html: str):
    p = _DeclarationParser()
    p.feed(html)
    p.close()
    return p.units, p.articles


def test_scan_equals_the_parser_on_every_declaration(data_dir):
    files = sorted((data_dir / "udhr" / "declaration").glob("*.html"))
    assert len(files) > 500
    for f in files:
        html = f.read_text(encoding="utf-8")
        got = _scan(html)
        assert got is not None, f"{f.name}: outside the fast reader's subset"
        assert got == _parsed(html), f.name


TEXT = st.text(st.sampled_from("ab &;#x26amp lt>\n\t\u00e9\u0915"), max_size=12)
TAG = st.sampled_from(["p", "li", "p", "li", "P", "LI", "header", "Header", "article", "article", "h2", "ol", "b"])


@st.composite
def documents(draw):
    """Documents from the tags the reader knows and some it skips, with text that spells entities (split
    across runs, too), attributes, and now and then what the reader leaves to the parser: a stray '<', a
    self-closing tag, a comment or a script."""
    parts = [draw(st.sampled_from(["", "<!doctype html>"]))]
    for _ in range(draw(st.integers(0, 30))):
        kind = draw(st.integers(0, 40))
        tag = draw(TAG)
        if kind <= 14:
            parts.append(draw(TEXT))
        elif kind <= 27:
            attrs = ""
            if tag == "article":
                attrs = draw(st.sampled_from([' data-number="3"', " data-number='1'", " data-number=7", "",
                                              ' data-number="&#x32;"', ' class="x" data-number="4"',
                                              ' data-number="1" data-number="2"', " data-number"]))
            parts.append(f"<{tag}{attrs}{draw(st.sampled_from(['', '', '', ' ', '/']))}>")
        elif kind <= 39:
            parts.append(f"</{tag}>")
        else:
            parts.append(draw(st.sampled_from(["<!-- c -->", "< p>", "a < b", "<script>x</script>"])))
    return "".join(parts)


@st.composite
def declarations(draw):
    """Declarations as the files lay them out: a header and articles of <p> and <li> (a <p> inside an <li>
    now and then), inline tags and entities in the text."""
    out = [draw(st.sampled_from(["", "<!doctype html>"])), "<html><body><h1>Title</h1>"]
    for i in range(draw(st.integers(0, 4))):
        preamble = i == 0 and draw(st.booleans())
        out.append("<header><h2>Preamble</h2>" if preamble else
                   f'<article data-number="{draw(st.integers(1, 30))}"><h2>Article</h2><ol>')
        for _ in range(draw(st.integers(0, 4))):
            tag = draw(st.sampled_from(["p", "li", "P"]))
            out += [f"<{tag}>", draw(TEXT)]
            if draw(st.booleans()):
                out.append(draw(st.sampled_from(["<b>", "<p>", "</b>", "</p>", "<li>"])) + draw(TEXT))
            out += [draw(TEXT), f"</{tag}>", draw(st.sampled_from(["", "\n  ", " x "]))]
        out.append("</header>" if preamble else "</ol></article>")
    out.append("</body></html>")
    return "".join(out)


@given(declarations())
def test_scan_equals_the_parser_on_generated_declarations(html):
    got = _scan(html)
    assert got is not None
    assert got == _parsed(html)


@given(documents())
def test_scan_equals_the_parser_or_hands_over(html):
    got = _scan(html)
    if got is not None:
        assert got == _parsed(html)


@pytest.mark.parametrize("html", [
    "<header><p>a</p></header><!-- <p>b</p> --><article data-number='1'><p>c</p></article>",
    "<article data-number=\"1\"><p>x < y</p></article>",
    "<header><p/><p>a</p></header>",
    "<header><style>p {}</style><p>a</p></header>",
])
def test_documents_outside_the_subset_go_to_the_parser(html):
    assert _scan(html) is None
    assert parse_declaration(html) == {u: "\n".join(t) for u, t in _parsed(html)[0].items()}


def test_entities_split_by_a_tag_are_read_run_by_run():
    html = '<article data-number="2"><p>&am<span></span>p; &amp;<b>&lt;</b></p></article>'
    assert _scan(html) == _parsed(html) == ({"2": ["&amp; &<"]}, ["2"])


def test_article_numbers_are_still_checked():
    with pytest.raises(InputError, match="appears twice"):
        parse_declaration('<article data-number="1"><p>a</p></article><article data-number="1"></article>')


@given(st.text())
def test_char_counts_equal_a_counter(text):
    # in the same order too: the dominant script of a tie is the one seen first
    assert list(_char_counts(text).items()) == list(Counter(text).items())
    assert list(script_counts(text).items()) == list(script_counts(Counter(text)).items())
    assert dominant_script(text) == dominant_script(Counter(text))


def test_char_counts_of_lone_surrogates_and_astral_characters():
    text = "a\udcff\udcff\U0001F600é"
    assert _char_counts(text) == {"a": 1, "\udcff": 2, "\U0001F600": 1, "é": 1}


@given(st.lists(st.text(), max_size=8), st.integers(1, 20))
def test_count_chars_of_many_texts_equals_a_counter_of_their_concatenation(texts, chunk):
    assert list(count_chars(texts, chunk=chunk).items()) == list(Counter("".join(texts)).items())
