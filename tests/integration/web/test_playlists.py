"""'Open in 3D player': M3U playlists with long-lived signed URLs, and the instructions."""

from __future__ import annotations

import time
from urllib.parse import parse_qs, urlsplit

from tests.integration.web.conftest import Site


def _entries(text: str) -> list[tuple[str, str]]:
    lines = text.strip().splitlines()
    assert lines[0] == "#EXTM3U"
    return [(lines[i], lines[i + 1]) for i in range(1, len(lines), 2)]


async def test_one_job_playlist_has_a_long_lived_playable_link(
    site: Site, tiny_video: bytes
) -> None:
    job_id = await site.create_job(output_format="half-tb")
    site.complete(job_id, tiny_video, title="Beach, day 2")
    response = await site.client.get(f"/jobs/{job_id}/playlist.m3u")
    assert response.status_code == 200
    assert response.mimetype == "audio/x-mpegurl"
    assert 'filename="Beach_day_2_LR_Half_TB.m3u"' in response.headers["Content-Disposition"]
    [(info, url)] = _entries(await response.get_data(as_text=True))
    assert info == "#EXTINF:-1,Beach, day 2 [Top-bottom (half height)]"
    expires = int(parse_qs(urlsplit(url).query)["e"][0])
    assert abs(expires - (time.time() + site.settings.playlist_url_expiry_s)) < 60
    video = await site.client.get(site.signed_path(url))
    assert video.status_code == 200 and await video.get_data() == tiny_video


async def test_all_completed_playlist_lists_every_finished_job(
    site: Site, tiny_video: bytes
) -> None:
    titles = []
    for number in range(3):
        job_id = await site.create_job()
        site.complete(job_id, tiny_video, title=f"clip {number}")
        titles.append(f"clip {number}")
    running = await site.create_job(title="not yet")
    site.start_converting(running)
    text = await (await site.client.get("/playlist.m3u")).get_data(as_text=True)
    entries = _entries(text)
    assert [info.split(",", 1)[1].split(" [")[0] for info, _url in entries] == titles[::-1]
    assert "not yet" not in text
    for _info, url in entries:
        assert (await site.client.head(site.signed_path(url))).status_code == 200


async def test_playlist_of_an_unfinished_job_is_404(site: Site) -> None:
    job_id = await site.create_job()
    site.start_converting(job_id)
    assert (await site.client.get(f"/jobs/{job_id}/playlist.m3u")).status_code == 404
    assert (await site.client.get(f"/jobs/{job_id}/players")).status_code == 404


async def test_player_page_explains_vlc_bino_and_potplayer_modes(
    site: Site, tiny_video: bytes
) -> None:
    job_id = await site.create_job(output_format="full-sbs")
    site.complete(job_id, tiny_video, title="holiday")
    html = await (await site.client.get(f"/jobs/{job_id}/players")).get_data(as_text=True)
    for player in ("VLC", "Bino", "PotPlayer"):
        assert f"<h2>{player}</h2>" in html
    assert f'href="/jobs/{job_id}/playlist.m3u"' in html
    assert "Input: Left/right" in html and "Side by Side (left first)" in html
    assert "_LRF_Full_SBS" in html and "_LR_Half_TB" in html
    everything = await (await site.client.get("/players")).get_data(as_text=True)
    assert 'href="/playlist.m3u"' in everything and "holiday" in everything
