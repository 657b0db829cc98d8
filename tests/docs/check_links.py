#!/usr/bin/env python3
"""check_links.py: no file of the repository sends its reader outside it.

A clone is all a reader has: a link to a file beside the repository, or
to one that does not exist, is dead in every clone. This checks every
tracked file (git ls-files; without git, every file under the root but
build trees):

  - in Markdown files, every relative link and image (inline, reference
    and HTML src/href; not in code) must name a file or directory inside
    the repository that exists, and a #fragment into a Markdown file must
    name one of its headings;
  - no text file may name the design notes the project started from
    outside the repository (the parent's `shared` folder, its DESIGN file,
    or "DESIGN section N" citations): the design is docs/architecture.md.

Usage: check_links.py [ROOT]      (default: the repository holding this file)
       check_links.py --self-test (checks the checker on a made-up tree)
Exit 0 when clean; 1 with one line per problem, "FILE:LINE: what".
"""
import os
import re
import subprocess
import sys
import tempfile

# Built from pieces so that this file does not name them itself.
FORBIDDEN = [
    ('..' + '/shared', 'a path outside the repository'),
    ('shared' + '/reference', 'the reference notes outside the repository (docs/rfc/, docs/peers.md)'),
    ('DESIGN' + '.md', 'the old design file (docs/architecture.md)'),
]
# A citation may wrap: "DESIGN\n * section 2" in a comment.
FORBIDDEN_RE = [
    (re.compile(r'\b' + 'DES' + r'IGN(?:\s|\*|#|//)*sections?\s+\d'),
     'cites the old design (cite docs/architecture.md section N)'),
]
SKIP_DIRS = {'.git', 'node_modules', '__pycache__'}
FENCE = re.compile(r'^\s*(```|~~~)')
INLINE_LINK = re.compile(r'!?\[(?:[^\[\]]|\[[^\]]*\])*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)')
REFERENCE_LINK = re.compile(r'^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+.*)?$')
HTML_LINK = re.compile(r'''\b(?:src|href)\s*=\s*["']([^"']+)["']''', re.I)
CODE_SPAN = re.compile(r'(`+)(?:(?!\1).)+?\1')
SCHEME = re.compile(r'^[a-zA-Z][a-zA-Z0-9+.-]*:')


def tracked_files(root):
    try:
        out = subprocess.run(['git', '-C', root, 'ls-files', '-z'], check=True,
                             capture_output=True).stdout
        files = [f for f in out.decode().split('\0') if f]
        if files:
            return [f for f in files if os.path.isfile(os.path.join(root, f))]
    except (OSError, subprocess.CalledProcessError):
        pass
    files = []
    for directory, dirs, names in os.walk(root):
        dirs[:] = [d for d in dirs if d not in SKIP_DIRS and not d.startswith('build')]
        for name in names:
            files.append(os.path.relpath(os.path.join(directory, name), root))
    return files


def read_text(path):
    try:
        with open(path, 'rb') as f:
            data = f.read()
    except OSError:
        return None
    if b'\0' in data:
        return None
    try:
        return data.decode('utf-8')
    except UnicodeDecodeError:
        return None


def slug(heading):
    """GitHub's anchor for a heading."""
    text = re.sub(r'<[^>]+>', '', heading)
    text = re.sub(r'\[([^\]]*)\]\([^)]*\)', r'\1', text)     # a link's text only
    text = text.strip().lower()
    text = re.sub(r'[^\w\- ]', '', text)
    return text.replace(' ', '-')


def prose_lines(text, keep_code_spans=False):
    """(line number, line) outside fenced code, with code spans blanked
    (or kept, for headings, whose anchors include their text)."""
    fenced = None
    for number, line in enumerate(text.split('\n'), 1):
        fence = FENCE.match(line)
        if fence:
            if fenced is None:
                fenced = fence.group(1)
            elif fence.group(1) == fenced:
                fenced = None
            continue
        if fenced is None and not line.startswith('    '):
            yield number, line if keep_code_spans else CODE_SPAN.sub('', line)


def anchors(text):
    found, counts = set(), {}
    for _, line in prose_lines(text, keep_code_spans=True):
        match = re.match(r'^\s{0,3}#{1,6}\s+(.*?)\s*#*\s*$', line)
        if not match:
            continue
        base = slug(match.group(1))
        n = counts.get(base, 0)
        counts[base] = n + 1
        found.add(base if n == 0 else '%s-%d' % (base, n))
    for match in re.finditer(r'''<a\s+(?:name|id)\s*=\s*["']([^"']+)["']''', text):
        found.add(match.group(1))
    return found


def links(text):
    for number, line in prose_lines(text):
        for pattern in (INLINE_LINK, HTML_LINK):
            for match in pattern.finditer(line):
                yield number, match.group(1)
        match = REFERENCE_LINK.match(line)
        if match:
            yield number, match.group(1)


def check_link(root, source, target, anchor_cache):
    if SCHEME.match(target) or target.startswith('//'):
        return None     # a URL: not a file of this tree
    path, _, fragment = target.partition('#')
    root_real = os.path.realpath(root)
    if path:
        base = root_real if path.startswith('/') else os.path.dirname(os.path.join(root_real, source))
        resolved = os.path.normpath(os.path.join(base, path.lstrip('/')))
        if os.path.commonpath([resolved, root_real]) != root_real:
            return 'links outside the repository: %s' % target
        if not os.path.exists(resolved):
            return 'links to a file that does not exist: %s' % target
    else:
        resolved = os.path.join(root_real, source)
    if fragment and resolved.endswith('.md') and os.path.isfile(resolved):
        if resolved not in anchor_cache:
            anchor_cache[resolved] = anchors(read_text(resolved) or '')
        if fragment.lower() not in anchor_cache[resolved] and fragment not in anchor_cache[resolved]:
            return 'links to a heading that does not exist: %s' % target
    return None


def check(root):
    problems = []
    anchor_cache = {}
    for name in sorted(tracked_files(root)):
        text = read_text(os.path.join(root, name))
        if text is None:
            continue
        for number, line in enumerate(text.split('\n'), 1):
            for needle, what in FORBIDDEN:
                if needle in line:
                    problems.append('%s:%d: names %s' % (name, number, what))
        for pattern, what in FORBIDDEN_RE:
            for match in pattern.finditer(text):
                number = text.count('\n', 0, match.start()) + 1
                problems.append('%s:%d: %s' % (name, number, what))
        if name.endswith('.md'):
            for number, target in links(text):
                problem = check_link(root, name, target, anchor_cache)
                if problem:
                    problems.append('%s:%d: %s' % (name, number, problem))
    return problems


def self_test():
    """The checker on a made-up tree: each bad case is found, no good one."""
    outside = '..' + '/shared/x.md'
    design = 'DES' + 'IGN'
    with tempfile.TemporaryDirectory() as top:
        root = os.path.join(top, 'repo')
        os.makedirs(os.path.join(root, 'docs'))
        os.makedirs(os.path.join(top, 'shared'))
        files = {
            'docs/a.md': '# A title\n\n## Two words\n\nSee [b](b.md), [up](../README.md),\n'
                         '[anchor](#two-words), [b\'s](b.md#the-b-heading), '
                         '[web](https://example.com/x.md), ![img](img.png).\n'
                         '```\n[in code](nowhere.md)\n```\nand `[span](nowhere.md)`.\n',
            'docs/b.md': '# The B heading\n\n## With `code` (`x.sh`)\n\n[self](#with-code-xsh)\n',
            'docs/img.png': 'not really\n',
            'README.md': '[ok](docs/a.md)\n',
            'bad/out.md': '[dead in a clone](../%s)\n' % outside,
            'bad/missing.md': '[gone](nothing-here.md)\n',
            'bad/anchor.md': '[no heading](../docs/b.md#no-such-heading)\n',
            'bad/html.md': '<img src="../../elsewhere.png">\n',
            'bad/reference.md': '[r]: ../../elsewhere.md\n',
            'bad/comment.c': '/* the bus (%s section 2) */\n' % design,
            'bad/script.sh': '# see %s.md\n' % design,
            'bad/wrapped.h': '/* the slots (%s\n * section 8) */\n' % design,
        }
        for name, text in files.items():
            os.makedirs(os.path.dirname(os.path.join(root, name)), exist_ok=True)
            with open(os.path.join(root, name), 'w') as f:
                f.write(text)
        problems = check(root)
    flagged = {p.split(':')[0] for p in problems}
    expected = {name for name in files if name.startswith('bad/')}
    ok = flagged == expected
    for name in sorted(expected - flagged):
        print('self-test: not found in %s' % name)
    for name in sorted(flagged - expected):
        print('self-test: wrongly flagged: %s' % [p for p in problems if p.startswith(name)])
    print('self-test: %s (%d problems found in %d bad files)'
          % ('ok' if ok else 'FAILED', len(problems), len(expected)))
    return 0 if ok else 1


def main():
    if sys.argv[1:] == ['--self-test']:
        return self_test()
    root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), '..', '..')
    problems = check(root)
    for problem in problems:
        print(problem)
    if problems:
        print('%d links out of the repository or to nothing (the design is '
              'docs/architecture.md, the RFC docs/rfc/)' % len(problems))
        return 1
    print('no file links outside the repository')
    return 0


if __name__ == '__main__':
    sys.exit(main())
