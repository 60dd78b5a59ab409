from layers.thai import thai_sort_key


def test_leading_vowels_sort_after_their_consonant():
    words = ["ขาม", "เมือง", "ไก่", "กา", "โนนไทย", "บัวใหญ่"]
    assert sorted(words, key=thai_sort_key) == ["กา", "ไก่", "ขาม", "โนนไทย", "บัวใหญ่", "เมือง"]


def test_tone_marks_only_break_ties():
    assert sorted(["ก้า", "กา", "กาก"], key=thai_sort_key) == ["กา", "ก้า", "กาก"]
