package mapping

// Brevo attribute types. Brevo has no integer type: every number is a float.
const (
	TypeText    = "text"
	TypeFloat   = "float"
	TypeBoolean = "boolean"
	TypeDate    = "date"
)

// TargetEmail is the mapping target that means "the contact's email
// identifier" rather than an attribute.
const TargetEmail = "email"

// DefaultFieldMapping returns the seed's mapping, Braze field -> Brevo
// attribute. The map is a fresh copy the caller may change.
func DefaultFieldMapping() map[string]string {
	return map[string]string{
		"external_id":        "BRAZE_ID",
		"email":              TargetEmail,
		"first_name":         "FIRSTNAME",
		"last_name":          "LASTNAME",
		"phone":              "SMS",
		"total_revenue":      "TOTAL_REVENUE",
		"push_opted_in":      "PUSH_OPTIN",
		"email_subscribe":    "EMAIL_STATUS",
		"loyalty_points":     "LOYALTY_POINTS",
		"last_app_version":   "APP_VERSION",
		"preferred_language": "LANGUAGE",
	}
}

// handling says how a source field is read beyond plain coercion.
type handling uint8

const (
	plain     handling = iota
	phone              // normalised to E.164; only a text target makes sense
	timeZone           // Rails zone names become IANA names
	pushOptIn          // derived from push_subscribe unless a custom attribute exists
)

// standardField describes a top-level field of the Braze export object.
type standardField struct {
	typ string // fixed Brevo type; "" for fields that cannot be mapped
	how handling
}

// standardFields are the top-level fields of a Braze export user object.
// Any other mapped name is looked up in custom_attributes. Fields whose type
// is "" are lists of objects: they have no single-attribute meaning.
var standardFields = map[string]standardField{
	"external_id":         {typ: TypeText},
	"braze_id":            {typ: TypeText},
	"first_name":          {typ: TypeText},
	"last_name":           {typ: TypeText},
	"email":               {typ: TypeText},
	"phone":               {typ: TypeText, how: phone},
	"dob":                 {typ: TypeDate},
	"gender":              {typ: TypeText},
	"country":             {typ: TypeText},
	"home_city":           {typ: TypeText},
	"language":            {typ: TypeText},
	"time_zone":           {typ: TypeText, how: timeZone},
	"created_at":          {typ: TypeDate},
	"total_revenue":       {typ: TypeFloat},
	"random_bucket":       {typ: TypeFloat},
	"email_subscribe":     {typ: TypeText},
	"push_subscribe":      {typ: TypeText},
	"push_opted_in_at":    {typ: TypeDate},
	"uninstalled_at":      {typ: TypeDate},
	"last_coordinates":    {typ: TypeText},
	"attributed_campaign": {typ: TypeText},
	"attributed_source":   {typ: TypeText},
	"attributed_adgroup":  {typ: TypeText},
	"attributed_ad":       {typ: TypeText},
	"push_opted_in":       {typ: TypeBoolean, how: pushOptIn},

	"user_aliases":       {},
	"custom_attributes":  {},
	"custom_events":      {},
	"purchases":          {},
	"devices":            {},
	"push_tokens":        {},
	"apps":               {},
	"campaigns_received": {},
	"canvases_received":  {},
	"cards_clicked":      {},
}

// customDefaults are the types of the seed's custom attributes, used when
// Options.Types says nothing about their target.
var customDefaults = map[string]string{
	"loyalty_points":     TypeFloat,
	"last_app_version":   TypeText,
	"preferred_language": TypeText,
}
