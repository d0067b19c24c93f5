package gen

import "strconv"

// Streams: each concern draws from its own pseudo-random stream keyed by
// (seed, index, salt), so a neighbour's identity can be recomputed cheaply
// (duplicated emails and phones) and adding a field never shifts the others.
const (
	saltIdentity = 1
	saltContact  = 2
	saltProfile  = 3
	saltVersion  = 1 << 20 // + version
)

// permMul is odd, so multiplying by it permutes uint64; permInv undoes it.
const permMul = 0x9E3779B97F4A7C15

var permInv = func() uint64 {
	inv := uint64(permMul) // Newton's iteration doubles the correct bits each step
	for range 6 {
		inv *= 2 - permMul*inv
	}
	return inv
}()

// mix is the SplitMix64 finalizer.
func mix(z uint64) uint64 {
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9
	z = (z ^ (z >> 27)) * 0x94D049BB133111EB
	return z ^ (z >> 31)
}

func (g *Generator) hash(i int, salt uint64) uint64 {
	return mix(g.key ^ mix(uint64(i)+1) ^ (salt * 0xD1B54A32D192ED03))
}

type rng struct{ s uint64 }

func (r *rng) next() uint64 {
	r.s += 0x9E3779B97F4A7C15
	return mix(r.s)
}

func (r *rng) intn(n int) int { return int(r.next() % uint64(n)) }

func (r *rng) pick(list []string) string { return list[r.intn(len(list))] }

// identity is what never changes about a user.
type identity struct {
	created      int64
	hasExt       bool
	first, last  int
	emailKind    int // per mille: see appendEmail
	emailStyle   int
	domain       int
	createdQuirk bool
}

func (g *Generator) identity(i int) identity {
	r := rng{g.hash(i, saltIdentity)}
	return identity{
		created:      createdFrom + int64(r.intn(createdSpan)),
		hasExt:       r.intn(100) >= 3,
		first:        r.intn(len(firstNames)),
		last:         r.intn(len(lastNames)),
		emailKind:    r.intn(1000),
		emailStyle:   r.intn(3),
		domain:       r.intn(len(emailDomains)),
		createdQuirk: r.intn(2) == 0,
	}
}

// appendEmail appends the email of user i. Per mille of users: 30 have none,
// 2 an invalid one, 2 share their predecessor's, 20 have capitals, 10 are
// padded with spaces.
func (g *Generator) appendEmail(b []byte, i int, allowDup bool) ([]byte, bool) {
	id := g.identity(i)
	k := id.emailKind
	switch {
	case k < 30:
		return b, false
	case k < 34 && k >= 32 && allowDup && i > 0:
		return g.appendEmail(b, i-1, false)
	}
	padded := k >= 54 && k < 64
	if padded {
		b = append(b, ' ')
	}
	start := len(b)
	switch id.emailStyle {
	case 0:
		b = appendFolded(b, firstNames[id.first])
		b = append(b, '.')
	case 1:
		b = appendFolded(b, firstNames[id.first])
		b = append(b, '_')
	default:
		b = appendFolded(b, firstNames[id.first][:1])
	}
	sep := len(b)
	b = appendFolded(b, lastNames[id.last])
	b = strconv.AppendInt(b, int64(i), 10)
	if k >= 30 && k < 32 { // invalid
		switch i % 4 {
		case 0:
			return append(b, '@'), true
		case 1:
			b = append(b, '.')
			return append(b, emailDomains[id.domain]...), true
		case 2:
			b = append(b, "@@"...)
			return append(b, emailDomains[id.domain]...), true
		default:
			return append(b, "@example..com"...), true
		}
	}
	b = append(b, '@')
	at := len(b)
	b = append(b, emailDomains[id.domain]...)
	if k >= 34 && k < 54 {
		for _, p := range []int{start, sep, at} {
			if c := b[p]; c >= 'a' && c <= 'z' {
				b[p] = c - 'a' + 'A'
			}
		}
	}
	if padded {
		b = append(b, ' ', ' ')
	}
	return b, true
}

// contact is the country and the phone, drawn together because the phone's
// format follows the country.
func (g *Generator) contact(i int) (r rng, c *country) {
	r = rng{g.hash(i, saltContact)}
	w := r.intn(countryWeightTotal)
	for k := range countries {
		if w < countries[k].weight {
			return r, &countries[k]
		}
		w -= countries[k].weight
	}
	return r, &countries[len(countries)-1]
}

// appendPhone appends the phone of user i. Per mille: 300 have none, 5 have
// garbage, 2 share their predecessor's number.
func (g *Generator) appendPhone(b []byte, i int, allowDup bool) ([]byte, bool) {
	r, c := g.contact(i)
	k := r.intn(1000)
	switch {
	case k < 300:
		return b, false
	case k < 305:
		return append(b, r.pick(garbagePhones)...), true
	case k < 307 && allowDup && i > 0:
		return g.appendPhone(b, i-1, false)
	}
	tpl := r.pick(c.phones)
	start := len(b)
	b = append(b, tpl...)
	d := i % phoneModulo
	for p := len(b) - 1; p >= start; p-- {
		switch b[p] {
		case 'D':
			b[p] = byte('0' + d%10)
			d /= 10
		case 'X':
			b[p] = byte('1' + r.intn(9))
		}
	}
	return b, true
}

// appendUser writes the JSON object of user i at a version.
func (g *Generator) appendUser(dst []byte, i int, c Change, f *Filter, withBrazeID bool) []byte {
	version := c.Version
	id := g.identity(i)
	_, ctry := g.contact(i)
	p := rng{g.hash(i, saltProfile)}
	v := rng{g.hash(i, saltVersion+uint64(max(version, 0)))}
	e := enc{b: dst, filter: f, removed: c.Removed}
	e.b = append(e.b, '{')

	if e.want("created_at") {
		e.key("created_at")
		e.b = append(e.b, '"')
		if id.createdQuirk {
			e.b = appendBrazeTime(e.b, id.created)
		} else {
			e.b = appendISO(e.b, id.created)
		}
		e.b = append(e.b, '"')
	}
	if id.hasExt && e.want("external_id") {
		e.key("external_id")
		e.b = append(e.b, '"')
		e.b = appendExternalID(e.b, i)
		e.b = append(e.b, '"')
	}
	if withBrazeID && e.want("braze_id") {
		e.key("braze_id")
		e.b = append(e.b, '"')
		e.b = g.appendBrazeID(e.b, i, id.created)
		e.b = append(e.b, '"')
	}
	if hasAlias(i) && e.want("user_aliases") {
		s := e.open("user_aliases", '[')
		o := e.openElem('{')
		e.key("alias_name")
		e.b = append(e.b, '"')
		e.b = append(e.b, aliasPrefix...)
		e.b = strconv.AppendInt(e.b, int64(i), 10)
		e.b = append(e.b, '"')
		e.str("alias_label", aliasLabel)
		e.close(o, '}')
		e.close(s, ']')
	}
	first := id.first
	if version > 0 { // 7 and 41 are coprime: a new name for 40 versions running
		first = (first + version*7) % len(firstNames)
	}
	if e.want("first_name") {
		e.str("first_name", firstNames[first])
	}
	if e.want("last_name") {
		e.str("last_name", lastNames[id.last])
	}
	if e.want("email") {
		n := len(e.b)
		e.key("email")
		e.b = append(e.b, '"')
		var ok bool
		if e.b, ok = g.appendEmail(e.b, i, true); ok {
			e.b = append(e.b, '"')
		} else {
			e.b = e.b[:n]
			e.fields--
		}
	}
	hasDOB := p.intn(10) > 0
	dob := int64(-631152000) + int64(p.intn(56*365))*dayS // 1950 .. 2005
	if hasDOB && e.want("dob") {
		e.key("dob")
		e.b = append(e.b, '"')
		n := len(e.b)
		e.b = appendISO(e.b, dob)[:n+10] // the date part
		e.b = append(e.b, '"')
	}
	city := p.pick(ctry.cities)
	hasCity := p.intn(10) > 0
	if hasCity && e.want("home_city") {
		e.str("home_city", city)
	}
	if e.want("country") {
		e.str("country", ctry.code)
	}
	if e.want("phone") {
		n := len(e.b)
		e.key("phone")
		e.b = append(e.b, '"')
		var ok bool
		if e.b, ok = g.appendPhone(e.b, i, true); ok {
			e.b = append(e.b, '"')
		} else {
			e.b = e.b[:n]
			e.fields--
		}
	}
	if e.want("language") {
		e.str("language", ctry.lang)
	}
	zone := p.pick(ctry.zones)
	if e.want("time_zone") {
		e.str("time_zone", zone)
	}
	gender := p.intn(len(genders) + 2)
	if gender < len(genders) && e.want("gender") {
		e.str("gender", genders[gender])
	}
	revenue := 0
	if p.intn(100) >= 40 {
		revenue = p.intn(50000)
	}
	if version > 0 { // strictly grows with the version
		revenue += version*1999 + v.intn(1000)
	}
	if e.want("total_revenue") {
		e.cents("total_revenue", revenue)
	}
	push := p.pick(subscribeStates)
	pushAt := id.created + int64(p.intn(400*dayS))
	if e.want("push_subscribe") {
		e.str("push_subscribe", push)
	}
	if push == "opted_in" && e.want("push_opted_in_at") {
		e.key("push_opted_in_at")
		e.b = append(e.b, '"')
		e.b = appendISO(e.b, pushAt)
		e.b = append(e.b, '"')
	}
	email := p.pick(subscribeStates)
	if version > 0 && v.intn(2) == 0 {
		email = v.pick(subscribeStates)
	}
	if e.want("email_subscribe") {
		e.str("email_subscribe", email)
	}
	g.appendCustomAttributes(&e, &p, version, ctry)
	g.appendActivity(&e, &p, id.created)
	e.b = append(e.b, '}')
	return e.b
}

// appendCustomAttributes writes custom_attributes with one of each type.
func (g *Generator) appendCustomAttributes(e *enc, p *rng, version int, ctry *country) {
	all := e.want("custom_attributes")
	var only map[string]bool
	if !all && e.filter != nil && !e.removed.has("custom_attributes") {
		only = e.filter.CustomAttributes
	}
	wantCA := func(k string) bool { return (all || only[k]) && !e.removed.hasCustom(k) }

	loyalty := p.intn(5000) + version*13
	appVersion := p.pick(appVersions)
	pref := p.pick(ctry.prefs)
	vip := p.intn(10) == 0
	nCats := p.intn(5)
	catStart := p.intn(len(categories))
	purchaseKind := p.intn(5) // 0: absent; 1,2: Z; 3: offset; 4: date only
	purchaseAt := int64(1672531200 + p.intn(700*dayS))
	millis := p.intn(1000)
	offset := p.intn(5) - 1
	score := p.intn(100000)
	hasScore := p.intn(8) > 0
	if !all && len(only) == 0 {
		return
	}

	s := e.open("custom_attributes", '{')
	if wantCA("loyalty_points") {
		e.int("loyalty_points", loyalty)
	}
	if wantCA("last_app_version") {
		e.str("last_app_version", appVersion)
	}
	if wantCA("preferred_language") {
		e.str("preferred_language", pref)
	}
	if wantCA("vip") {
		e.bool("vip", vip)
	}
	if wantCA("favorite_categories") {
		a := e.open("favorite_categories", '[')
		for k := range nCats {
			e.elemStr(categories[(catStart+k*3)%len(categories)])
		}
		e.close(a, ']')
	}
	if purchaseKind > 0 && wantCA("last_purchase_date") {
		e.key("last_purchase_date")
		e.b = append(e.b, '"')
		switch purchaseKind {
		case 1, 2:
			e.b = appendISO(e.b, purchaseAt)
		case 3:
			e.b = appendISOOffset(e.b, purchaseAt, millis, offset)
		default:
			n := len(e.b)
			e.b = appendISO(e.b, purchaseAt)[:n+10]
		}
		e.b = append(e.b, '"')
	}
	if hasScore && wantCA("lifetime_score") {
		e.key("lifetime_score")
		e.b = strconv.AppendInt(e.b, int64(score/1000), 10)
		e.b = append(e.b, '.', byte('0'+score/100%10), byte('0'+score/10%10), byte('0'+score%10))
	}
	e.close(s, '}')
}

// appendActivity writes custom_events, purchases, devices and apps.
func (g *Generator) appendActivity(e *enc, p *rng, created int64) {
	span := func() (int64, int64) {
		first := created + int64(p.intn(300*dayS))
		return first, first + int64(p.intn(200*dayS))
	}
	counted := func(name string, names []string, max int) {
		n := p.intn(max + 1)
		want := n > 0 && e.want(name) // exports leave empty lists out
		var s int
		if want {
			s = e.open(name, '[')
		}
		start := p.intn(len(names))
		for k := range n {
			first, last := span()
			count := 1 + p.intn(40)
			if !want {
				continue
			}
			o := e.openElem('{')
			e.str("name", names[(start+k)%len(names)])
			e.key("first")
			e.b = append(e.b, '"')
			e.b = appendISO(e.b, first)
			e.b = append(e.b, '"')
			e.key("last")
			e.b = append(e.b, '"')
			e.b = appendISO(e.b, last)
			e.b = append(e.b, '"')
			e.int("count", count)
			e.close(o, '}')
		}
		if want {
			e.close(s, ']')
		}
	}
	counted("custom_events", eventNames, 3)
	counted("purchases", productNames, 2)

	nDev := 1 + p.intn(2)
	devStart := p.intn(len(deviceModels))
	wantDev, wantApps := e.want("devices"), e.want("apps")
	var s int
	if wantDev {
		s = e.open("devices", '[')
	}
	type app struct {
		platform       string
		sessions       int
		sessionsAsText bool
		firstU, lastU  int64
		version        string
	}
	var apps [2]app
	for k := range nDev {
		d := deviceModels[(devStart+k)%len(deviceModels)]
		carrier := p.pick(carriers)
		adTracking := p.intn(3) > 0
		devID := p.next()
		firstU, lastU := span()
		apps[k] = app{platform: d.platform, sessions: 1 + p.intn(500), sessionsAsText: p.intn(3) == 0,
			firstU: firstU, lastU: lastU, version: p.pick(appVersions)}
		if !wantDev {
			continue
		}
		o := e.openElem('{')
		e.str("model", d.model)
		e.str("os", d.os)
		if carrier != "" {
			e.str("carrier", carrier)
		}
		if d.platform == "iOS" {
			e.key("idfv")
		} else {
			e.key("device_id")
		}
		e.b = append(e.b, '"')
		for sh := 60; sh >= 0; sh -= 4 {
			e.b = append(e.b, hexDigits[(devID>>sh)&0xf])
		}
		e.b = append(e.b, '"')
		e.bool("ad_tracking_enabled", adTracking)
		e.close(o, '}')
	}
	if wantDev {
		e.close(s, ']')
	}
	if !wantApps {
		return
	}
	s = e.open("apps", '[')
	for k := range nDev {
		a := apps[k]
		o := e.openElem('{')
		name := appNames[0]
		if a.platform == "Web" {
			name = appNames[1]
		}
		e.str("name", name)
		e.str("platform", a.platform)
		e.str("version", a.version)
		if a.sessionsAsText { // Braze's docs say string, its samples say integer
			e.str("sessions", strconv.Itoa(a.sessions))
		} else {
			e.int("sessions", a.sessions)
		}
		e.key("first_used")
		e.b = append(e.b, '"')
		e.b = appendISO(e.b, a.firstU)
		e.b = append(e.b, '"')
		e.key("last_used")
		e.b = append(e.b, '"')
		e.b = appendISO(e.b, a.lastU)
		e.b = append(e.b, '"')
		e.close(o, '}')
	}
	e.close(s, ']')
}
