package brevo_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"

	"github.com/tajo-sync/tajo/pkg/brevo"
)

// Bulk-load contacts: fill import batches under the size limit, start one
// import at a time and wait for each to finish. A tiny stand-in for Brevo
// answers the calls.
func Example() {
	srv := fakeBrevo()
	defer srv.Close()

	c, err := brevo.New(brevo.Config{BaseURL: srv.URL, APIKey: "xkeysib-..."})
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	opts := brevo.ImportOptions{ListIDs: []int64{7}, UpdateExistingContacts: true}
	fast := brevo.Backoff{Initial: 1, Max: 1} // the stand-in finishes at once

	flush := func(b *brevo.ImportBatch) {
		id, err := c.ImportFromBatch(ctx, b, opts)
		if err != nil {
			log.Fatal(err)
		}
		p, err := c.WaitProcess(ctx, id, fast)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("process %d: %d contacts %s\n", p.ID, b.Len(), p.Status)
		b.Reset()
	}

	batch := brevo.NewImportBatch(1600) // tiny, to show the split; default 8 MB
	for i := range 10 {
		ct := brevo.ImportContact{
			Email:      fmt.Sprintf("user%d@example.com", i),
			ExtID:      fmt.Sprintf("u%d", i),
			Attributes: map[string]any{"FIRSTNAME": "Ann", "VIP": i%2 == 0},
		}
		ok, err := batch.Add(ct)
		if err != nil {
			log.Fatal(err) // this contact cannot be imported: report it
		}
		if !ok {
			flush(batch)
			if _, err := batch.Add(ct); err != nil {
				log.Fatal(err)
			}
		}
	}
	flush(batch)
	// Output:
	// process 1: 6 contacts completed
	// process 2: 4 contacts completed
}

func fakeBrevo() *httptest.Server {
	mux := http.NewServeMux()
	imports := 0
	mux.HandleFunc("POST /contacts/import", func(w http.ResponseWriter, r *http.Request) {
		var body struct{ JSONBody []json.RawMessage }
		if json.NewDecoder(r.Body).Decode(&body) != nil || len(body.JSONBody) == 0 {
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprint(w, `{"code":"invalid_parameter","message":"jsonBody"}`)
			return
		}
		imports++
		w.WriteHeader(http.StatusAccepted)
		fmt.Fprintf(w, `{"processId":%d}`, imports)
	})
	mux.HandleFunc("GET /processes/{id}", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, `{"id":%s,"status":"completed","name":"IMPORTUSER"}`, r.PathValue("id"))
	})
	return httptest.NewServer(mux)
}
