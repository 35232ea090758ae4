"""The domain-term branch of a split: the `regex` module's trie-shaped branch matches exactly the pieces of the
flat, longest-first alternation that Oniguruma (tokenizers) gets."""

import regex
from hypothesis import given
from hypothesis import strategies as st

from tokkit.train.patterns import onig_escape, regex_escape, split_pattern, term_branch

ALPHABET = "ab .§1-"
term = st.text(ALPHABET, min_size=1, max_size=5).filter(lambda t: t.strip())


def flat_branch(terms):
    """The branch as Oniguruma gets it, written for the regex module (same escaping rule per character)."""
    parts = []
    for t in sorted(terms, key=lambda t: (-len(t), t)):
        body = regex_escape(t)
        if t[0].isalnum():
            body = r"(?<![\p{L}\p{N}])" + body
        if t[-1].isalnum():
            body += r"(?![\p{L}\p{N}])"
        parts.append(body)
    return "(?: ?(?:" + "|".join(parts) + "))"


@given(terms=st.lists(term, min_size=1, max_size=6, unique=True), text=st.text(ALPHABET + "cA\n", max_size=60))
def test_trie_branch_matches_the_flat_alternation(terms, text):
    trie = regex.compile(split_pattern("gpt2", terms=terms, flavour="regex"))
    flat = regex.compile(flat_branch(terms) + "|" + split_pattern("gpt2", flavour="regex"))
    assert trie.findall(text) == flat.findall(text)
    assert "".join(trie.findall(text)) == text


def test_prefix_terms_longest_first_and_word_edges():
    rx = regex.compile(split_pattern("gpt2", terms=["U.S.C.", "U.S.C.A.", "null"], flavour="regex"))
    assert rx.findall("see 42 U.S.C.A. and U.S.C. null annulled nullify") == [
        "see", " 42", " U.S.C.A.", " and", " U.S.C.", " null", " annulled", " nullify"]
    assert onig_escape("§ 1") == "\\x{A7}\\x{20}1" and "|" in term_branch(["a", "b"])
