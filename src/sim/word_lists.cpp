// The generator's fixed word lists (see word_lists.hpp). The dictionary is common English words; the
// names are frequent US first names and surnames; recipient domains are RFC 2606 example names so no
// generated address can reach anyone; the TLDs are those most seen in spam link domains.
#include "word_lists.hpp"

namespace pw::sim::detail {

std::span<const std::string_view> dictionary_words() {
  static constexpr std::string_view list[] = {
      "about",     "above",     "across",   "action",   "active",  "actual",   "address",  "advice",  "afraid",
      "after",     "afternoon", "again",    "against",  "agency",  "agent",    "agree",    "ahead",   "airport",
      "album",     "alive",     "allow",    "almost",   "alone",   "along",    "already",  "also",    "always",
      "amount",    "anchor",    "angle",    "animal",   "annual",  "answer",   "anyone",   "apart",   "apple",
      "april",     "area",      "argue",    "arrive",   "article", "artist",   "aside",    "asleep",  "attempt",
      "august",    "author",    "autumn",   "average",  "avoid",   "awake",    "away",     "baby",    "back",
      "badge",     "baker",     "balance",  "ball",     "band",    "bank",     "barrel",   "basic",   "basket",
      "battle",    "beach",     "bean",     "bear",     "beauty",  "become",   "bedroom",  "before",  "begin",
      "behind",    "belief",    "bell",     "below",    "bench",   "berry",    "better",   "beyond",  "bicycle",
      "bird",      "birth",     "biscuit",  "bitter",   "black",   "blanket",  "blind",    "block",   "blood",
      "board",     "boat",      "body",     "bone",     "book",    "border",   "borrow",   "bottle",  "bottom",
      "bounce",    "bowl",      "brain",    "branch",   "brave",   "bread",    "break",    "breeze",  "brick",
      "bridge",    "brief",     "bright",   "bring",    "broad",   "brother",  "brown",    "brush",   "bucket",
      "budget",    "build",     "bundle",   "burden",   "butter",  "button",   "cabin",    "cable",   "camera",
      "camp",      "canal",     "candle",   "canvas",   "capital", "captain",  "carbon",   "card",    "care",
      "carpet",    "carry",     "castle",   "casual",   "cattle",  "ceiling",  "cellar",   "center",  "century",
      "chain",     "chair",     "chalk",    "chance",   "change",  "chapter",  "charge",   "cheap",   "check",
      "cheese",    "cherry",    "chest",    "chicken",  "chief",   "child",    "choice",   "circle",  "city",
      "claim",     "class",     "clean",    "clear",    "clerk",   "clever",   "climb",    "clock",   "close",
      "cloth",     "cloud",     "coast",    "coat",     "coffee",  "coin",     "cold",     "collar",  "colour",
      "column",    "comfort",   "common",   "copper",   "corner",  "cotton",   "council",  "country", "county",
      "couple",    "courage",   "course",   "cousin",   "cover",   "cradle",   "crane",    "cream",   "credit",
      "crowd",     "crown",     "cruel",    "crystal",  "cup",     "curtain",  "curve",    "cushion", "custom",
      "cycle",     "daily",     "damage",   "dance",    "danger",  "daring",   "daughter", "dawn",    "debate",
      "decade",    "decide",    "deep",     "degree",   "delay",   "demand",   "desert",   "design",  "detail",
      "device",    "diary",     "dinner",   "direct",   "doctor",  "dollar",   "donkey",   "door",    "double",
      "dozen",     "draft",     "dragon",   "drawer",   "dream",   "dress",    "drift",    "drink",   "driver",
      "during",    "dust",      "eager",    "early",    "earth",   "easily",   "eastern",  "echo",    "edge",
      "editor",    "effort",    "eight",    "elbow",    "eleven",  "empty",    "engine",   "enough",  "entire",
      "equal",     "error",     "escape",   "evening",  "event",   "exact",    "example",  "expert",  "fabric",
      "factory",   "fairly",    "falcon",   "family",   "famous",  "farmer",   "fashion",  "father",  "feather",
      "fellow",    "fence",     "festival", "fever",    "field",   "figure",   "final",    "finger",  "finish",
      "flame",     "flavour",   "fleet",    "flight",   "floor",   "flower",   "focus",    "follow",  "forest",
      "forget",    "fortune",   "forward",  "fountain", "frame",   "freedom",  "fresh",    "friday",  "friend",
      "front",     "frost",     "fruit",    "funny",    "future",  "garden",   "garlic",   "gather",  "gentle",
      "giant",     "ginger",    "glass",    "global",   "glove",   "golden",   "govern",   "grain",   "grape",
      "grass",     "gravel",    "green",    "ground",   "growth",  "guard",    "guess",    "guest",   "guide",
      "guitar",    "habit",     "hammer",   "handle",   "harbour", "harvest",  "hazard",   "health",  "heart",
      "heaven",    "heavy",     "hedge",    "height",   "helmet",  "herald",   "hidden",   "highway", "hollow",
      "honest",    "honey",     "horizon",  "horse",    "hotel",   "hour",     "house",    "hunger",  "hunter",
      "idea",      "image",     "impact",   "income",   "index",   "infant",   "inner",    "insect",  "island",
      "ivory",     "jacket",    "jelly",    "jewel",    "journey", "judge",    "juice",    "jungle",  "kettle",
      "kingdom",   "kitchen",   "kitten",   "knee",     "knife",   "ladder",   "lake",     "lamp",    "language",
      "lantern",   "large",     "later",    "laugh",    "lawyer",  "layer",    "leader",   "leather", "lemon",
      "lesson",    "letter",    "level",    "library",  "light",   "limit",    "linen",    "liquid",  "little",
      "lizard",    "local",     "lock",     "lonely",   "lorry",   "lucky",    "lumber",   "machine", "magnet",
      "maiden",    "manner",    "maple",    "marble",   "margin",  "market",   "master",   "meadow",  "medal",
      "member",    "memory",    "mental",   "method",   "middle",  "mirror",   "mister",   "moment",  "monday",
      "money",     "monkey",    "month",    "morning",  "mother",  "motion",   "mountain", "mouse",   "muscle",
      "museum",    "music",     "narrow",   "nation",   "native",  "nature",   "needle",   "nephew",  "network",
      "never",     "night",     "noble",    "noise",    "normal",  "north",    "notice",   "number",  "object",
      "ocean",     "office",    "often",    "olive",    "onion",   "open",     "orange",   "orbit",   "orchard",
      "order",     "organ",     "other",    "oven",     "owner",   "oxygen",   "paddle",   "paint",   "palace",
      "paper",     "parade",    "parcel",   "parent",   "party",   "pattern",  "peace",    "pencil",  "people",
      "pepper",    "period",    "person",   "picture",  "pillow",  "pilot",    "planet",   "plastic", "plate",
      "pocket",    "poem",      "police",   "polish",   "pond",    "porch",    "potato",   "powder",  "power",
      "prairie",   "praise",    "pretty",   "price",    "prince",  "prison",   "problem",  "profit",  "promise",
      "proper",    "public",    "pulse",    "puzzle",   "quarter", "queen",    "quick",    "quiet",   "rabbit",
      "radio",     "rain",      "random",   "rapid",    "reason",  "record",   "region",   "remote",  "rescue",
      "result",    "ribbon",    "rice",     "ridge",    "river",   "road",     "robin",    "rocket",  "rough",
      "round",     "route",     "royal",    "rubber",   "saddle",  "safety",   "salad",    "salmon",  "sample",
      "sand",      "saturday",  "scale",    "school",   "science", "season",   "second",   "secret",  "seldom",
      "select",    "shadow",    "shallow",  "shelter",  "shield",  "shoulder", "silent",   "silver",  "simple",
      "sister",    "sketch",    "slender",  "slope",    "small",   "smooth",   "snake",    "social",  "soldier",
      "solid",     "south",     "spider",   "spirit",   "spring",  "square",   "stable",   "station", "steady",
      "steel",     "stone",     "storm",    "story",    "stream",  "street",   "strong",   "sudden",  "sugar",
      "summer",    "sunday",    "supply",   "surface",  "swallow", "sweet",    "symbol",   "table",   "tailor",
      "talent",    "teacher",   "temple",   "tender",   "thirsty", "thunder",  "ticket",   "tiger",   "timber",
      "today",     "tomato",    "tongue",   "tower",    "travel",  "treasure", "triangle", "tribe",   "trouble",
      "tunnel",    "turkey",    "twelve",   "umbrella", "uncle",   "under",    "unique",   "urban",   "useful",
      "valley",    "velvet",    "vessel",   "village",  "violet",  "visit",    "voice",    "voyage",  "wagon",
      "walnut",    "warm",      "water",    "weather",  "wedding", "weekend",  "welcome",  "western", "wheat",
      "whisper",   "widow",     "window",   "winter",   "wisdom",  "wonder",   "wooden",   "worker",  "yellow",
      "yesterday", "young",     "zebra",
  };
  return list;
}

std::span<const std::string_view> first_names() {
  static constexpr std::string_view list[] = {
      "James",     "Mary",      "John",    "Patricia",  "Robert",      "Jennifer",  "Michael", "Linda",
      "William",   "Elizabeth", "David",   "Barbara",   "Richard",     "Susan",     "Joseph",  "Jessica",
      "Thomas",    "Sarah",     "Charles", "Karen",     "Christopher", "Nancy",     "Daniel",  "Lisa",
      "Matthew",   "Betty",     "Anthony", "Margaret",  "Mark",        "Sandra",    "Donald",  "Ashley",
      "Steven",    "Kimberly",  "Paul",    "Emily",     "Andrew",      "Donna",     "Joshua",  "Michelle",
      "Kenneth",   "Dorothy",   "Kevin",   "Carol",     "Brian",       "Amanda",    "George",  "Melissa",
      "Edward",    "Deborah",   "Ronald",  "Stephanie", "Timothy",     "Rebecca",   "Jason",   "Sharon",
      "Jeffrey",   "Laura",     "Ryan",    "Cynthia",   "Jacob",       "Kathleen",  "Gary",    "Amy",
      "Nicholas",  "Shirley",   "Eric",    "Angela",    "Jonathan",    "Helen",     "Stephen", "Anna",
      "Larry",     "Brenda",    "Justin",  "Pamela",    "Scott",       "Nicole",    "Brandon", "Emma",
      "Benjamin",  "Samantha",  "Samuel",  "Katherine", "Gregory",     "Christine", "Frank",   "Debra",
      "Alexander", "Rachel",    "Raymond", "Catherine", "Patrick",     "Carolyn",   "Jack",    "Janet",
      "Dennis",    "Ruth",      "Jerry",   "Maria",
  };
  return list;
}

std::span<const std::string_view> last_names() {
  static constexpr std::string_view list[] = {
      "Smith",    "Johnson",   "Williams", "Brown",     "Jones",    "Garcia",   "Miller",   "Davis",      "Rodriguez",
      "Martinez", "Hernandez", "Lopez",    "Gonzalez",  "Wilson",   "Anderson", "Thomas",   "Taylor",     "Moore",
      "Jackson",  "Martin",    "Lee",      "Perez",     "Thompson", "White",    "Harris",   "Sanchez",    "Clark",
      "Ramirez",  "Lewis",     "Robinson", "Walker",    "Young",    "Allen",    "King",     "Wright",     "Scott",
      "Torres",   "Nguyen",    "Hill",     "Flores",    "Green",    "Adams",    "Nelson",   "Baker",      "Hall",
      "Rivera",   "Campbell",  "Mitchell", "Carter",    "Roberts",  "Gomez",    "Phillips", "Evans",      "Turner",
      "Diaz",     "Parker",    "Cruz",     "Edwards",   "Collins",  "Reyes",    "Stewart",  "Morris",     "Morales",
      "Murphy",   "Cook",      "Rogers",   "Gutierrez", "Ortiz",    "Morgan",   "Cooper",   "Peterson",   "Bailey",
      "Reed",     "Kelly",     "Howard",   "Ramos",     "Kim",      "Cox",      "Ward",     "Richardson", "Watson",
      "Brooks",   "Chavez",    "Wood",     "James",     "Bennett",  "Gray",     "Mendoza",  "Ruiz",       "Hughes",
      "Price",    "Alvarez",   "Castillo", "Sanders",   "Patel",    "Myers",    "Long",     "Ross",       "Foster",
  };
  return list;
}

std::span<const std::string_view> recipient_domains() {
  static constexpr std::string_view list[] = {
      "example.com", "example.net", "example.org", "mail.example.com", "post.example.net", "inbox.example.org",
  };
  return list;
}

std::span<const std::string_view> spam_tlds() {
  static constexpr std::string_view list[] = {
      "com", "net", "info", "biz", "ru", "cn", "org", "us",
  };
  return list;
}

std::span<const std::string_view> empty_tags() {
  static constexpr std::string_view list[] = {
      "b", "i", "u", "font", "span", "em", "strong", "small",
  };
  return list;
}

}  // namespace pw::sim::detail
