"""What a station and the prefecture look like on the as-of date: the pages (概要.html, index.html) and 県集計.xlsx."""
