"""The password of a URL never shows in text output (error lines, ``-v`` logs, tables).

``floimg images download http://user:PASSWORD@host/x.png`` repeated the password in
its error line, its ``items_failed`` summary and every ``-v`` log line (the SDK logs
the URL it fetches), which end up in CI logs. Whatever the scheme, user, password
and host, text output must show ``user:***@`` instead.
"""

from __future__ import annotations

from _cli_support import Floimg, ScriptedServer
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from floimg_async.cli._output import safe_text

word = st.text(alphabet="abcXYZ019-._~!$&'()*+,;=%", min_size=1, max_size=10)
passwords = st.text(alphabet="abcXYZ019-._~!$&'()*+,;=%:", min_size=3, max_size=20).map(
    lambda p: "Pw" + p
)


@settings(max_examples=80, deadline=None)
@given(
    scheme=st.sampled_from(["http", "https", "HTTP", "s3", "git+ssh"]),
    user=st.text(alphabet="abcXYZ019-._~", max_size=8),
    password=passwords,
    before=st.sampled_from(["", "see ", "(", "url="]),
)
def test_cli_safe_text_masks_every_url_password(
    scheme: str, user: str, password: str, before: str
) -> None:
    url = f"{scheme}://{user}:{password}@cdn.example:8443/files/x.png?sig=1"
    shown = safe_text(f"{before}{url} failed")
    assert password not in shown
    assert f"{scheme}://{user}:***@cdn.example:8443/files/x.png?sig=1" in shown


@settings(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(password=passwords, verbose=st.booleans())
def test_cli_download_errors_never_repeat_a_url_password(
    scripted: ScriptedServer, password: str, verbose: bool
) -> None:
    # another origin (port 1: nothing listens), so the failure is the connection's
    url = f"http://user:{password}@127.0.0.1:1/files/x.png"
    result = Floimg(dict(scripted.env))(
        *(["-v"] if verbose else []), "images", "download", url, "-o", "/tmp", "--max-retries", "0"
    )
    assert result.code == 4, result.stderr
    assert password not in result.stdout + result.stderr
    assert "user:***@" in result.stderr
