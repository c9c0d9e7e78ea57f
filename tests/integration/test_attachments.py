"""Attachments (issue 20 part 5): files on milestones and progress-log entries, checked by their
content, kept in a folder or in the database, shown on the project page, downloaded only
within the viewer's scope and audited; the same over the JSON API."""

from __future__ import annotations

import io
import urllib.parse

import pytest

from tests import factories
from tests.conftest import count_queries, login
from tests.integration import attachments_support as files
from tests.integration import s3_server
from tests.integration.s3_server import s3_bucket, s3_endpoint  # noqa: F401  (fixtures)


@pytest.fixture(params=["folder", "database", "s3"])
def storage(request, app):
    if request.param == "s3":
        request.getfixturevalue("s3_bucket")
    app.config["ATTACHMENT_STORAGE"] = request.param
    return request.param


@pytest.fixture
def records(app, world):
    """A milestone and a log entry of a1 (park A) and of b1 (park B)."""
    from crm.extensions import db

    with app.app_context():
        a1, b1 = (db.session.merge(world.projects[k]) for k in ("a1", "b1"))
        ids = {
            "m_a1": factories.milestone(a1, "建设用地规划许可证").id,
            "log_a1": factories.log(a1, text="现场走访", author=db.session.merge(world.users["agent_a"])).id,
            "m_b1": factories.milestone(b1, "海安节点").id,
            "log_b1": factories.log(b1, text="海安走访").id,
        }
        db.session.commit()
    return ids


def as_user(app, username):
    """A new client logged in as the user."""
    client = app.test_client()
    login(client, username)
    return client


def upload(client, owner: str, owner_id: int, content: bytes, name: str, purpose=None):
    data = {"file": (io.BytesIO(content), name)}
    if purpose:
        data["purpose"] = purpose
    return client.post(f"/attachments/{owner}/{owner_id}", data=data,
                       content_type="multipart/form-data")


def attachments(app, **where):
    from sqlalchemy import select

    from crm.attachments.models import Attachment
    from crm.extensions import db

    with app.app_context():
        rows = db.session.scalars(select(Attachment).filter_by(**where).order_by(Attachment.id)).all()
        db.session.expunge_all()
        return rows


def audit_actions(app, action):
    from sqlalchemy import select

    from crm.audit.models import AuditEvent
    from crm.extensions import db

    with app.app_context():
        return db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)).all()


# -- what is accepted ------------------------------------------------------------------------

@pytest.mark.parametrize("kind,name,make", files.ACCEPTED, ids=[k for k, _n, _m in files.ACCEPTED])
def test_each_accepted_kind_uploads_and_downloads_intact(app, client, world, records, storage,
                                                         kind, name, make):
    login(client, "agent_a")
    content = make()
    response = upload(client, "milestone", records["m_a1"], content, name)
    assert response.status_code == 302
    assert response.headers["Location"].endswith(
        f"/projects/{world.projects['a1'].id}#milestone-{records['m_a1']}")
    [attachment] = attachments(app, owner_type="milestone", owner_id=records["m_a1"])
    assert (attachment.kind, attachment.filename, attachment.size, attachment.storage) == (
        kind, name, len(content), storage)
    assert attachment.project_id == world.projects["a1"].id
    download = client.get(f"/attachments/{attachment.id}/download")
    assert download.status_code == 200 and download.get_data() == content
    disposition = download.headers["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert "filename*=UTF-8''" + urllib.parse.quote(name) in disposition
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    thumb = client.get(f"/attachments/{attachment.id}/thumbnail")
    if kind in ("jpeg", "png"):
        from PIL import Image

        assert thumb.status_code == 200 and thumb.mimetype == "image/jpeg"
        assert max(Image.open(io.BytesIO(thumb.get_data())).size) <= 320
        assert (attachment.width, attachment.height) == (640, 480)
    else:
        assert thumb.status_code == 404


def test_the_project_page_shows_files_with_thumbnails_and_the_upload_forms(app, client, world, records):
    login(client, "agent_a")
    upload(client, "milestone", records["m_a1"], files.pdf(), "用地规划许可证.pdf", "approval_document")
    upload(client, "log", records["log_a1"], files.image("JPEG"), "现场照片.jpg", "photo")
    html = client.get(f"/projects/{world.projects['a1'].id}").get_data(as_text=True)
    milestone = html[html.index(f'id="milestone-{records["m_a1"]}"'):]
    assert "用地规划许可证.pdf" in milestone[:milestone.index("</li>")]
    log = html[html.index(f'id="log-{records["log_a1"]}"'):]
    assert "现场照片.jpg" in log and 'data-testid="thumbnail"' in log
    assert html.count('data-testid="attachment-form"') >= 2  # one per milestone and log entry
    assert "批文" in html or "审批文件" in html  # the purpose, in Chinese


def test_a_leader_sees_and_downloads_but_may_not_upload(app, client, world, records):
    login(client, "agent_a")
    upload(client, "milestone", records["m_a1"], files.pdf(), "批复.pdf")
    [attachment] = attachments(app, owner_type="milestone")
    client = as_user(app, "leader")
    html = client.get(f"/projects/{world.projects['a1'].id}").get_data(as_text=True)
    assert "批复.pdf" in html and 'data-testid="attachment-form"' not in html
    assert client.get(f"/attachments/{attachment.id}/download").status_code == 200
    assert upload(client, "milestone", records["m_a1"], files.pdf(), "x.pdf").status_code == 403
    assert client.post(f"/attachments/{attachment.id}/delete").status_code == 403
    assert len(attachments(app)) == 1


def test_another_parks_manager_gets_404_for_everything(app, client, world, records):
    login(client, "manager_a")
    upload(client, "milestone", records["m_a1"], files.image("PNG"), "a.png")
    [attachment] = attachments(app)
    client = as_user(app, "manager_b")
    for url in (f"/attachments/{attachment.id}/download", f"/attachments/{attachment.id}/thumbnail",
                f"/attachments/milestone/{records['m_a1']}", f"/attachments/log/{records['log_a1']}"):
        assert client.get(url).status_code == 404, url
    assert upload(client, "milestone", records["m_a1"], files.pdf(), "x.pdf").status_code == 404
    assert upload(client, "log", records["log_a1"], files.pdf(), "x.pdf").status_code == 404
    assert client.post(f"/attachments/{attachment.id}/delete").status_code == 404
    assert client.get("/attachments/nonsense/1").status_code == 404  # no such owner type
    assert len(attachments(app)) == 1
    assert not audit_actions(app, "attachment.download")


def test_downloads_uploads_and_removals_are_audited_and_in_the_trail(app, client, world, records):
    login(client, "manager_a")
    upload(client, "milestone", records["m_a1"], files.pdf(), "批复.pdf")
    [attachment] = attachments(app)
    client.get(f"/attachments/{attachment.id}/download")
    client.get(f"/attachments/{attachment.id}/download")
    downloads = audit_actions(app, "attachment.download")
    assert len(downloads) == 2 and downloads[0].project_id == world.projects["a1"].id
    assert downloads[0].user_id == world.users["manager_a"].id and downloads[0].note == "批复.pdf"
    assert len(audit_actions(app, "attachment.upload")) == 1
    assert client.post(f"/attachments/{attachment.id}/delete").status_code == 302
    assert len(audit_actions(app, "attachment.delete")) == 1 and not attachments(app)
    html = client.get(f"/projects/{world.projects['a1'].id}").get_data(as_text=True)
    assert "下载了附件" in html or "downloaded the attached file" in html


def test_staff_remove_only_what_they_attached(app, client, world, records, storage):
    login(client, "agent_a")
    upload(client, "log", records["log_a1"], files.image("PNG"), "照片.png")
    [mine] = attachments(app)
    client = as_user(app, "consultant_a")
    assert client.post(f"/attachments/{mine.id}/delete").status_code == 403
    client = as_user(app, "agent_a")
    assert client.post(f"/attachments/{mine.id}/delete").status_code == 302
    assert not attachments(app)
    assert client.get(f"/attachments/{mine.id}/download").status_code == 404
    _assert_no_bytes_left(app)


def _assert_no_bytes_left(app):
    from pathlib import Path

    from sqlalchemy import func, select

    from crm.attachments.models import AttachmentBlob
    from crm.extensions import db

    folder = Path(app.instance_path) / "attachments"
    assert not [p for p in folder.rglob("*") if p.is_file()] if folder.exists() else True
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(AttachmentBlob)) == 0
    if app.config["ATTACHMENT_STORAGE"] == "s3":
        assert s3_server.objects(app) == []


def test_deleting_a_log_entry_removes_its_files(app, client, world, records, storage):
    login(client, "agent_a")
    upload(client, "log", records["log_a1"], files.image("JPEG"), "照片.jpg")
    client = as_user(app, "admin")
    response = client.post(f"/projects/logs/{records['log_a1']}/delete", data={"reason": "重复"})
    assert response.status_code in (200, 302, 303)
    assert not attachments(app)
    _assert_no_bytes_left(app)


# -- what is refused -------------------------------------------------------------------------

REFUSED = [
    ("lying", files.image("PNG"), "批复.pdf", "PNG"),
    ("exe", files.EXE, "setup.exe", "程序"),
    ("exe named pdf", files.EXE, "批复.pdf", "程序"),
    ("xlsm", files.xlsx(macro=True), "台账.xlsm", "宏"),
    ("xlsm named xlsx", files.xlsx(macro=True), "台账.xlsx", "宏"),
    ("docm", files.ooxml("docx", macro=True), "通知.docm", "宏"),
    ("doc with macros", files.doc(macro=True), "通知.doc", "宏"),
    ("path", files.pdf(), "../../etc/批复.pdf", "路径"),
    ("text", b"hello", "note.txt", "PDF"),
    ("empty", b"", "empty.pdf", "空"),
]


@pytest.mark.parametrize("label,content,name,words", REFUSED, ids=[r[0] for r in REFUSED])
def test_refused_files_say_why_next_to_the_field_and_save_nothing(app, client, world, records,
                                                                 storage, label, content, name,
                                                                 words):
    login(client, "agent_a")
    response = upload(client, "milestone", records["m_a1"], content, name)
    html = response.get_data(as_text=True)
    assert response.status_code == 422, label
    assert "invalid-feedback" in html and words in html, html[html.find("invalid-feedback"):][:400]
    assert not attachments(app)
    _assert_no_bytes_left(app)


def test_an_image_claiming_a_huge_canvas_is_refused(app, client, world, records):
    """A decompression bomb: a few kB of PNG that would decode to a gigapixel canvas."""
    import struct
    import zlib

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    width = height = 40_000
    bomb = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"\x00" * 100_000)) + chunk(b"IEND", b""))
    assert len(bomb) < 10_000
    login(client, "agent_a")
    response = upload(client, "log", records["log_a1"], bomb, "bomb.png")
    assert response.status_code == 422 and "像素" in response.get_data(as_text=True)
    assert not attachments(app)


def test_an_oversized_upload_answers_413_in_chinese(app, client, world, records):
    app.config["ATTACHMENT_MAX_BYTES"] = 100_000
    login(client, "agent_a")
    big = files.pdf() + b"%" * 200_000  # over the request limit
    response = upload(client, "milestone", records["m_a1"], big, "大文件.pdf")
    assert response.status_code == 413
    assert "97 KB" in response.get_data(as_text=True) or "98 KB" in response.get_data(as_text=True)
    just_over = files.pdf() + b"%" * (100_001 - len(files.pdf()))  # the file alone is over
    response = upload(client, "milestone", records["m_a1"], just_over, "大文件.pdf")
    assert response.status_code == 413 and "附件" in response.get_data(as_text=True)
    assert not attachments(app)


def test_the_default_limit_is_20_mb_above_the_apps_2_mb(app, client, world, records):
    assert app.config["ATTACHMENT_MAX_BYTES"] == 20 * 1024 * 1024
    assert app.config["MAX_CONTENT_LENGTH"] == 2 * 1024 * 1024
    login(client, "agent_a")
    content = files.pdf() + b"%" * (3 * 1024 * 1024)  # 3 MB: above the app's limit
    assert upload(client, "milestone", records["m_a1"], content, "扫描件.pdf").status_code == 302
    # elsewhere the app's limit still holds
    assert client.post(f"/projects/{world.projects['a1'].id}/logs",
                       data={"text": "x" * (3 * 1024 * 1024)}).status_code == 413


def test_names_are_cleaned_but_keep_chinese(app, client, world, records):
    login(client, "agent_a")
    upload(client, "milestone", records["m_a1"], files.pdf(), "批复\u202e\x07文件  .pdf")
    upload(client, "milestone", records["m_a1"], files.pdf(), "长" * 300 + ".pdf")
    upload(client, "milestone", records["m_a1"], files.pdf(), "扫描件")
    names = [a.filename for a in attachments(app)]
    assert names[0] == "批复文件 .pdf"
    assert len(names[1]) == 100 and names[1].endswith(".pdf")
    assert names[2] == "扫描件.pdf"


def test_files_stored_one_way_stay_readable_after_switching(app, client, world, records):
    login(client, "agent_a")
    app.config["ATTACHMENT_STORAGE"] = "database"
    upload(client, "milestone", records["m_a1"], files.pdf("一"), "一.pdf")
    app.config["ATTACHMENT_STORAGE"] = "folder"
    upload(client, "milestone", records["m_a1"], files.image("PNG"), "二.png")
    first, second = attachments(app)
    assert (first.storage, second.storage) == ("database", "folder")
    for a in (first, second):
        assert client.get(f"/attachments/{a.id}/download").status_code == 200


def test_the_project_page_adds_one_statement_whatever_the_number_of_files(app, client, world, records):
    login(client, "agent_a")
    url = f"/projects/{world.projects['a1'].id}"
    upload(client, "milestone", records["m_a1"], files.pdf(), "一.pdf")
    client.get(url)
    with count_queries(app) as small:
        client.get(url)
    for i in range(6):
        upload(client, "milestone", records["m_a1"], files.image("PNG"), f"图{i}.png")
        upload(client, "log", records["log_a1"], files.pdf(), f"记录{i}.pdf")
    with count_queries(app) as large:
        html = client.get(url).get_data(as_text=True)
    assert html.count('data-testid="attachment"') == 13
    assert large.count == small.count, (small.statements, large.statements)
    assert sum("attachments" in s for s in large.statements) == 1


# -- the API ---------------------------------------------------------------------------------

@pytest.fixture
def api(app, world):
    from crm.auth.models import User
    from crm.auth.services import create_token
    from crm.extensions import db

    secrets = {}
    with app.app_context():
        for name in ("agent_a", "leader", "manager_b"):
            _token, secrets[name] = create_token(db.session.get(User, world.users[name].id), "t")
        db.session.commit()
    client = app.test_client()

    def call(user, method, url, **kw):
        return client.open(url, method=method, headers={"Authorization": f"Bearer {secrets[user]}"}, **kw)
    return call


def test_api_lists_uploads_downloads_and_removes(app, world, records, api, storage):
    a1 = world.projects["a1"].id
    base = f"/api/v1/projects/{a1}/milestones/{records['m_a1']}/attachments"
    content = files.pdf()
    created = api("agent_a", "POST", base, data={"file": (io.BytesIO(content), "批复.pdf"),
                                                  "purpose": "approval_document"},
                  content_type="multipart/form-data")
    assert created.status_code == 201, created.get_json()
    body = created.get_json()
    assert body["filename"] == "批复.pdf" and body["kind"] == "pdf" and body["purpose"] == "approval_document"
    assert api("leader", "GET", base).get_json()["items"][0]["id"] == body["id"]
    download = api("leader", "GET", body["download_url"])
    assert download.status_code == 200 and download.get_data() == content
    assert "attachment;" in download.headers["Content-Disposition"]
    assert len(audit_actions(app, "attachment.download")) == 1
    log_url = f"/api/v1/projects/{a1}/logs/{records['log_a1']}/attachments"
    photo = api("agent_a", "POST", log_url, data={"file": (io.BytesIO(files.image()), "照片.jpg")},
                content_type="multipart/form-data")
    assert photo.status_code == 201 and photo.get_json()["purpose"] == "photo"
    assert api("leader", "DELETE", f"/api/v1/attachments/{body['id']}").status_code == 403
    assert api("agent_a", "DELETE", f"/api/v1/attachments/{body['id']}").status_code == 204
    assert api("agent_a", "GET", f"/api/v1/attachments/{body['id']}").status_code == 404


def test_api_refusals_are_json_errors(app, world, records, api):
    a1, b1 = world.projects["a1"].id, world.projects["b1"].id
    base = f"/api/v1/projects/{a1}/milestones/{records['m_a1']}/attachments"

    def post(user, url, content, name):
        return api(user, "POST", url, data={"file": (io.BytesIO(content), name)},
                   content_type="multipart/form-data")

    lying = post("agent_a", base, files.image("PNG"), "a.pdf")
    assert lying.status_code == 422 and "file" in lying.get_json()["error"]["fields"]
    assert post("agent_a", base, files.EXE, "a.exe").get_json()["error"]["code"] == "validation_error"
    assert post("leader", base, files.pdf(), "a.pdf").status_code == 403
    assert post("manager_b", base, files.pdf(), "a.pdf").status_code == 404
    # a milestone of another project under a1's URL
    mismatch = f"/api/v1/projects/{a1}/milestones/{records['m_b1']}/attachments"
    assert api("leader", "GET", mismatch).status_code == 404
    assert api("leader", "GET", f"/api/v1/projects/{b1}/milestones/{records['m_b1']}/attachments").status_code == 200
    missing = api("agent_a", "POST", base, data={}, content_type="multipart/form-data")
    assert missing.status_code == 422 and missing.get_json()["error"]["fields"]["file"]
    app.config["ATTACHMENT_MAX_BYTES"] = 50_000
    big = post("agent_a", base, files.pdf() + b"%" * 200_000, "big.pdf")
    assert big.status_code == 413 and big.get_json()["error"]["code"] == "too_large"
    assert not attachments(app)


def test_s3_keeps_the_bytes_in_the_bucket_and_what_a_rollback_wrote_goes(app, client, world,
                                                                          records, s3_bucket):
    from sqlalchemy import select

    from crm.attachments import storage
    from crm.extensions import db

    login(client, "agent_a")
    content = files.pdf("批复")
    assert upload(client, "milestone", records["m_a1"], content, "批复.pdf").status_code == 302
    [stored] = attachments(app)
    assert stored.storage == "s3" and s3_server.objects(app) == [stored.storage_key]
    download = client.get(f"/attachments/{stored.id}/download")
    assert download.status_code == 200 and download.get_data() == content
    with app.app_context():  # a save whose transaction rolls back leaves no object behind
        db.session.execute(select(1))
        storage.backend().save("zz/rolled-back", b"%PDF-1.4 x")
        assert "zz/rolled-back" in s3_server.objects(app)
        db.session.rollback()
    assert s3_server.objects(app) == [stored.storage_key]
    client_, bucket = s3_bucket  # an object lost from the store: 404, not a 500
    client_.remove_object(bucket, stored.storage_key)
    assert client.get(f"/attachments/{stored.id}/download").status_code == 404


def test_s3_without_its_endpoint_fails_loudly_at_the_first_upload(app):
    app.config.update(ATTACHMENT_STORAGE="s3", ATTACHMENT_S3_ENDPOINT=None,
                      ATTACHMENT_S3_BUCKET=None)
    with app.app_context(), pytest.raises(RuntimeError, match="ATTACHMENT_S3_ENDPOINT"):
        from crm.attachments import storage

        storage.backend()
