"""Workload: detect the encoding of documents a user meets, whole and streamed in chunks.

Each document is a few kB of real-language prose built here from Python strings and encoded
(no network, no committed binary data): UTF-8 with and without a BOM, Western European text in
Latin-1 and cp1252, Japanese in Shift_JIS and EUC-JP, Chinese in GB2312 and Big5, Korean in
EUC-KR, Russian in KOI8-R and windows-1251, Greek in windows-1253/ISO-8859-7, Hebrew in
windows-1255. `chardet.detect` reads each whole (what requests' `apparent_encoding` does);
`UniversalDetector` is fed 1 kB chunks until it is done (what `chardetect` does with a file).
"""

import codecs

import chardet
from chardet.universaldetector import UniversalDetector

PROSE = {
    "western": (
        "Der Bahnhof liegt gegenüber dem Rathaus; die Züge fahren stündlich nach München, "
        "Köln und Düsseldorf. Größere Gepäckstücke müssen vorab aufgegeben werden. "
        "Le café est fermé le dimanche, mais la boulangerie près de l'église ouvre dès "
        "sept heures : pain au chocolat, brioche, crème brûlée et thé à la menthe. "
        "El niño pidió una canción; la señora sonrió y añadió: «¿Quién baila conmigo "
        "mañana en la fiesta del pueblo?» "
        "Ärger über Verspätungen ist verständlich, aber die Übergänge sind gut ausgeschildert. "
    ),
    "cp1252": (
        "“Smart quotes” and the em dash — a typographer’s habit — come from Word documents; "
        "prices are written as 12,50 € or £9.99, and the ellipsis… ends a sentence. "
        "Ça coûte 30 € ; l’hôtel « Beau Séjour » est à deux pas de la gare. "
        "Öffnungszeiten: Mo–Fr 9–18 Uhr, Sa 10–14 Uhr. "
    ),
    "japanese": (
        "東京駅から新幹線に乗って、京都へ向かいました。車窓からは富士山がきれいに見えました。"
        "京都では古いお寺や神社をたくさん見学し、夜は友達と一緒に日本料理を食べました。"
        "次の日は朝早く起きて、嵐山の竹林を散歩しました。天気がとても良くて、写真をたくさん撮りました。"
        "このソフトウェアの設定ファイルは文字コードを自動的に判定します。問題があれば管理者に連絡してください。"
    ),
    "chinese_simplified": (
        "我们今天去了北京的故宫博物院，那里有很多历史悠久的建筑和文物。"
        "下午我们在附近的公园里散步，看到很多老人在打太极拳，孩子们在放风筝。"
        "晚上我们吃了北京烤鸭，味道非常好。明天我们打算去长城，听说那里的风景特别美丽。"
        "这个软件可以自动识别文本文件的编码，如果有问题，请联系系统管理员。"
    ),
    "chinese_traditional": (
        "我們今天去了臺北的故宮博物院，那裡收藏了很多歷史悠久的文物和書畫。"
        "下午我們在附近的公園裡散步，看到很多老人在打太極拳，孩子們在放風箏。"
        "晚上我們去夜市吃了小吃，味道非常好。明天我們打算去九份，聽說那裡的風景特別美麗。"
        "這個軟體可以自動辨識文字檔案的編碼，如果有問題，請聯絡系統管理員。"
    ),
    "korean": (
        "오늘은 친구들과 함께 서울의 경복궁에 다녀왔습니다. 날씨가 맑아서 사진을 많이 찍었습니다. "
        "점심에는 근처 식당에서 비빔밥과 불고기를 먹었고, 오후에는 인사동 거리를 구경했습니다. "
        "저녁에는 한강 공원에서 산책을 하면서 야경을 보았습니다. 다음 주에는 부산에 갈 예정입니다. "
        "이 프로그램은 텍스트 파일의 문자 인코딩을 자동으로 감지합니다. "
    ),
    "russian": (
        "Вчера мы ездили в Санкт-Петербург на скоростном поезде. Погода была прохладной, "
        "но солнечной, и мы долго гуляли по Невскому проспекту. В Эрмитаже было много "
        "посетителей, поэтому мы купили билеты заранее через интернет. Вечером мы ужинали "
        "в небольшом ресторане недалеко от Исаакиевского собора и обсуждали планы на завтра. "
        "Эта программа автоматически определяет кодировку текстовых файлов. "
    ),
    "greek": (
        "Χθες πήγαμε στην Ακρόπολη νωρίς το πρωί, πριν έρθουν οι πολλοί επισκέπτες. "
        "Ο καιρός ήταν ζεστός και ηλιόλουστος, και η θέα της Αθήνας από ψηλά ήταν υπέροχη. "
        "Το μεσημέρι φάγαμε σουβλάκι και χωριάτικη σαλάτα σε μια μικρή ταβέρνα στην Πλάκα. "
        "Αυτό το πρόγραμμα αναγνωρίζει αυτόματα την κωδικοποίηση των αρχείων κειμένου. "
    ),
    "hebrew": (
        "אתמול נסענו לירושלים ברכבת החדשה. מזג האוויר היה נעים, וטיילנו ברחובות העיר העתיקה "
        "עד שעות הערב. בצהריים אכלנו חומוס ופלאפל במסעדה קטנה ליד השוק, ואחר כך ביקרנו "
        "במוזיאון ישראל. מחר אנחנו מתכננים לנסוע לים המלח ולחזור לתל אביב בערב. "
        "התוכנה הזאת מזהה באופן אוטומטי את הקידוד של קובצי טקסט. "
    ),
}

# (language, encoding, BOM prefix): the documents a user's files and web pages come in.
DOCUMENTS = [
    ("western", "utf-8", b""),
    ("japanese", "utf-8", b""),
    ("russian", "utf-8", b"\xef\xbb\xbf"),
    ("chinese_simplified", "utf-8", b"\xef\xbb\xbf"),
    ("western", "latin-1", b""),
    ("cp1252", "cp1252", b""),
    ("japanese", "shift_jis", b""),
    ("japanese", "euc-jp", b""),
    ("chinese_simplified", "gb2312", b""),
    ("chinese_traditional", "big5", b""),
    ("korean", "euc-kr", b""),
    ("russian", "koi8-r", b""),
    ("russian", "windows-1251", b""),
    ("greek", "windows-1253", b""),
    ("greek", "iso-8859-7", b""),
    ("hebrew", "windows-1255", b""),
]


def document(language: str, number: int, size: int = 3000) -> str:
    """A text of about `size` characters: the prose rotated and numbered, so no two are equal."""
    prose = PROSE[language]
    start = (number * 37) % len(prose)
    lines = []
    total = 0
    line = 0
    while total < size:
        piece = (prose[start:] + prose[:start])[: 120 + (line * 13) % 60]
        text = f"{number}.{line}: {piece.strip()}\n"
        lines.append(text)
        total += len(text)
        line += 1
        start = (start + 53) % len(prose)
    return "".join(lines)


def corpus(copies: int) -> list[tuple[str, bytes]]:
    """Every document kind `copies` times, each a different text, encoded as it would be stored."""
    return [
        (encoding, bom + document(language, number).encode(encoding))
        for number in range(copies)
        for language, encoding, bom in DOCUMENTS
    ]


def streamed(data: bytes, detector: UniversalDetector, chunk: int = 1024) -> dict:
    """Feed `data` in chunks until the detector is sure, as `chardetect` does with a file."""
    detector.reset()
    for offset in range(0, len(data), chunk):
        detector.feed(data[offset : offset + chunk])
        if detector.done:
            break
    detector.close()
    return detector.result


def same_codec(expected: str, detected: str | None) -> bool:
    """Whether chardet named the codec the document was written in (a BOM variant counts)."""
    if not detected:
        return False
    detected = codecs.lookup(detected).name
    return detected in {codecs.lookup(expected).name, codecs.lookup(expected).name + "-sig"}


documents = corpus(copies=8)
whole = [chardet.detect(data) for _, data in documents]
detector = UniversalDetector()
chunked = [streamed(data, detector) for _, data in documents]
found = sum(
    same_codec(encoding, result["encoding"]) for (encoding, _), result in zip(documents, whole)
)
print(len(documents), sum(len(data) for _, data in documents), found, whole[0], chunked[-1])
