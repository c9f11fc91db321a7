"""The territory's communes, schools and assets as agents read them: never another territory's."""

from __future__ import annotations

from handlers.agent_directory import asset_file, search_schools, territory_communes


async def test_communes_of_the_territory_only(db, world, other, actor) -> None:
    me = await actor("a")
    async with db.sessions() as s:
        assert [name for _, name in await territory_communes(s, me.territory_id)] == ["Firminy", "Saint-Étienne"]


async def test_school_search_by_name_uai_or_commune_in_the_territory(db, world, other, actor) -> None:
    me = await actor("a")
    async with db.sessions() as s:
        everything = await search_schools(s, me.territory_id)
        assert [x.uai for x in everything.schools] == sorted(world.schools.values())
        assert not everything.has_next
        assert other.school_uai not in [x.uai for x in everything.schools]
        by_name = await search_schools(s, me.territory_id, "jules")  # the other territory has one too
        assert [x.uai for x in by_name.schools] == [world.schools["a"]]
        by_commune = await search_schools(s, me.territory_id, "étienne")
        assert [(x.name, x.commune.name) for x in by_commune.schools] == [("École Victor Hugo", "Saint-Étienne")]
        assert [x.uai for x in (await search_schools(s, me.territory_id, world.schools["b"][:5])).schools] \
            == sorted(world.schools.values())
        assert (await search_schools(s, me.territory_id, "%")).schools  # no wildcard: dropped
        assert not (await search_schools(s, me.territory_id, "_x")).schools


async def test_school_pages_and_order(db, world, actor) -> None:
    me = await actor("admin")
    async with db.sessions() as s:
        first = await search_schools(s, me.territory_id, per_page=1, order="commune")
        second = await search_schools(s, me.territory_id, page=2, per_page=1, order="commune")
    assert [x.commune.name for x in first.schools + second.schools] == ["Firminy", "Saint-Étienne"]
    assert first.has_next and not second.has_next and second.page == 2


async def test_asset_logbook_is_bounded_by_the_ticket_scope(db, world, other, actor) -> None:
    """The same tag in another territory is another asset; commune B's agent sees the asset, not A's tickets."""
    agent_a, agent_b = await actor("a"), await actor("b")
    async with db.sessions() as s:
        mine = await asset_file(s, agent_a, " sem-000001 ")
        assert mine is not None and mine.asset.school.uai == world.schools["a"]
        assert [t.reference for t in mine.tickets] == [world.refs["a"]]
        assert mine.tickets[0].status == "new" and mine.tickets[0].opened_at is not None
        foreign = await asset_file(s, agent_b, "SEM-000001")
        assert foreign is not None and foreign.asset.id == mine.asset.id and foreign.tickets == []
        assert await asset_file(s, agent_a, "SEM-999999") is None
