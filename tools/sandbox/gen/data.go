package gen

// The tables are small on purpose: variety comes from combining them.

var firstNames = []string{
	"James", "Mary", "José", "Zoë", "Chloé", "Björn", "Siobhán", "Mei", "Aarav", "Oluwaseun",
	"François", "Łukasz", "Emma", "Noah", "Olivia", "Liam", "Sofía", "Mateo", "Hannah", "Lukas",
	"Camille", "Léa", "Giulia", "Marco", "Yuki", "Haruto", "Priya", "Arjun", "Ana", "João",
	"Fatima", "Omar", "Ingrid", "Sven", "Niamh", "Seán", "Chen", "Wei", "Isabelle", "Jean-Luc",
	"Anne-Marie",
} // 41 names: a prime, so a version bump always picks another name within 40 versions

var lastNames = []string{
	"Smith", "Johnson", "O'Brien", "García", "Müller", "Nguyen", "Dubois", "Rossi", "Kowalski", "Silva",
	"Tanaka", "van der Berg", "Schmidt", "Martin", "Bernard", "Fernández", "Williams", "Brown", "Sato", "Patel",
	"Okafor", "Andersson", "Murphy", "Lefèvre", "Romano", "Costa", "Kim", "Lee", "Dupont", "Weiß",
}

var emailDomains = []string{
	"example.com", "example.net", "example.org", "mail.example.com", "inbox.example.net", "post.example.org",
}

var invalidEmails = []string{"%s@", "%s.example.com", "%s@@example.com", "%s@example..com"}

var garbagePhones = []string{"n/a", "unknown", "000", "+", "call me", "-"}

// A country ties together what real profiles have in common: the phone
// formats, time zones (IANA and Rails names), cities and languages.
type country struct {
	code   string
	weight int
	lang   string
	prefs  []string // preferred_language custom attribute values
	cities []string
	zones  []string
	// phones are templates: 'D' takes the next low decimal digit of the
	// index (right to left), 'X' a pseudo-random digit 1-9, anything else
	// is copied.
	phones []string
}

var countries = []country{
	{"US", 30, "en", []string{"en", "en-US", "es"}, []string{"New York", "San Francisco", "Chicago", "Austin", "Seattle"},
		[]string{"America/New_York", "America/Los_Angeles", "America/Chicago", "Eastern Time (US & Canada)", "Pacific Time (US & Canada)", "Central Time (US & Canada)"},
		[]string{"+1 (415) XDD-DDDD", "212.XDD.DDDD", "(646) XDD-DDDD", "+1 312 XDD DDDD", "1310XDDDDDD", "+1512XDDDDDD"}},
	{"GB", 12, "en", []string{"en", "en-GB"}, []string{"London", "Manchester", "Bristol", "Edinburgh"},
		[]string{"Europe/London", "London", "Edinburgh"},
		[]string{"020 7XDD DDDD", "+44 7911 DDDDDD", "07700 DDDDDD", "+44 (0)20 7XDD DDDD"}},
	{"FR", 12, "fr", []string{"fr", "fr-FR", "en"}, []string{"Paris", "Lyon", "Marseille", "Bordeaux", "Saint-Étienne"},
		[]string{"Europe/Paris", "Paris"},
		[]string{"06 XX DD DD DD", "+33 6 XXDD DDDD", "07.XX.DD.DD.DD", "+33 1 XX DD DD DD"}},
	{"DE", 12, "de", []string{"de", "de-DE", "en"}, []string{"Berlin", "München", "Hamburg", "Köln"},
		[]string{"Europe/Berlin", "Berlin"},
		[]string{"+49 30 XDDDDDD", "0171 XDDDDDD", "+49 (0)89 XXDDDDDD", "0049 151 XXDDDDDD"}},
	{"CA", 5, "en", []string{"en", "fr-CA"}, []string{"Toronto", "Montréal", "Vancouver"},
		[]string{"America/Toronto", "America/Vancouver", "Eastern Time (US & Canada)"},
		[]string{"604-XDD-DDDD", "+1 (514) XDD-DDDD"}},
	{"ES", 5, "es", []string{"es", "es-ES", "ca"}, []string{"Madrid", "Barcelona", "Valencia"},
		[]string{"Europe/Madrid", "Madrid"},
		[]string{"+34 6XX DD DD DD", "6XX DDD DDD"}},
	{"IT", 5, "it", []string{"it", "en"}, []string{"Roma", "Milano", "Napoli"},
		[]string{"Europe/Rome", "Rome"},
		[]string{"+39 347 XDD DDDD", "333 XDDDDDD"}},
	{"NL", 4, "nl", []string{"nl", "en"}, []string{"Amsterdam", "Rotterdam", "Utrecht"},
		[]string{"Europe/Amsterdam", "Amsterdam"},
		[]string{"+31 6 XXDDDDDD", "06-XXDDDDDD"}},
	{"BR", 4, "pt", []string{"pt-BR", "pt"}, []string{"São Paulo", "Rio de Janeiro", "Belo Horizonte"},
		[]string{"America/Sao_Paulo", "Brasilia"},
		[]string{"+55 11 9XXDD-DDDD", "(21) 9XXDD-DDDD"}},
	{"IN", 4, "hi", []string{"en-IN", "hi"}, []string{"Mumbai", "Bengaluru", "Delhi"},
		[]string{"Asia/Kolkata", "Mumbai", "New Delhi"},
		[]string{"+91 98XXD DDDDD", "098XXDDDDDD"}},
	{"AU", 4, "en", []string{"en", "en-AU"}, []string{"Sydney", "Melbourne", "Brisbane"},
		[]string{"Australia/Sydney", "Sydney", "Melbourne"},
		[]string{"04XX DDD DDD", "+61 4XX DDD DDD"}},
	{"JP", 3, "ja", []string{"ja", "en"}, []string{"Tokyo", "Osaka", "Kyoto"},
		[]string{"Asia/Tokyo", "Tokyo"},
		[]string{"090-XXDD-DDDD", "+81 80 XXDD DDDD"}},
}

var countryWeightTotal = func() int {
	t := 0
	for _, c := range countries {
		t += c.weight
	}
	return t
}()

var genders = []string{"M", "F", "F", "M", "O", "N", "P"}

var subscribeStates = []string{"opted_in", "subscribed", "subscribed", "unsubscribed"}

var appVersions = []string{"4.12.1", "4.12.0", "4.11.3", "5.0.0-beta.2", "3.9.7"}

var categories = []string{"shoes", "electronics", "books", "home & garden", "beauty", "toys", "sports", "outdoor", "jewelry", "grocery"}

var eventNames = []string{"added_to_cart", "viewed_product", "completed_onboarding", "shared_wishlist", "started_trial", "searched"}

var productNames = []string{"Premium Plan", "Gift Card", "Running Shoes", "Coffee Beans 1kg", "E-Book Bundle"}

var deviceModels = []struct{ model, os, platform string }{
	{"iPhone 14", "iOS 17.2", "iOS"},
	{"iPhone 12 mini", "iOS 16.6", "iOS"},
	{"Pixel 7", "Android 14", "Android"},
	{"SM-G991B", "Android 13", "Android"},
	{"Chrome 121", "Mac OS X", "Web"},
}

var carriers = []string{"Verizon", "Vodafone", "Orange", "T-Mobile", "EE", "Telefónica", ""}

var appNames = []string{"Tajo Shop", "Tajo Shop Web"}
