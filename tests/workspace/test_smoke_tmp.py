def test_pages(login_as) -> None:  # type: ignore[no-untyped-def]
    for user, paths in {
        "kaifeng-lead": ["/t/kaifeng/", "/t/kaifeng/messages/", "/t/kaifeng/notices/", "/t/kaifeng/online", "/account/password", "/t/kaifeng/duties/", "/t/kaifeng/meetings/action-items"],
        "kaifeng-civil-affairs": ["/t/kaifeng/", "/t/kaifeng/messages/", "/t/kaifeng/notices/"],
        "kaifeng-auditor": ["/t/kaifeng/", "/t/kaifeng/messages/"],
        "operator": ["/platform/", "/platform/notices", "/platform/online", "/account/tokens"],
    }.items():
        b = login_as(user)
        for p in paths:
            r = b.get(p)
            print(user, p, r.status_code)
            assert r.status_code == 200, r.get_data(as_text=True)[-3000:]
            if user == "kaifeng-lead" and p == "/t/kaifeng/":
                open("/tmp/lead_home.html", "w").write(r.get_data(as_text=True))
