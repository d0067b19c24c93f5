package brevo

import (
	"net/http"
	"strconv"
)

func (s *Server) listFolders(w http.ResponseWriter, r *http.Request) {
	limit, offset, asc, e := pageQuery(r, 10, 50)
	if e != nil {
		writeError(w, e)
		return
	}
	s.lock()
	_, counts := s.counts()
	out := []folderView{}
	for _, i := range page(len(s.cat.folders), limit, offset, asc) {
		f := s.cat.folders[i]
		out = append(out, folderView{ID: f.id, Name: f.name, subscribers: *counts[f.id]})
	}
	n := len(s.cat.folders)
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"folders": out, "count": n})
}

func (s *Server) createFolder(w http.ResponseWriter, r *http.Request) {
	b, e := readBody(w, r, maxBody)
	if e == nil {
		var name string
		if name, e = nameField(b, "name", "Folder"); e == nil {
			s.lock()
			s.countUnknownFields(r, b)
			id := s.cat.addFolder(name)
			s.mu.Unlock()
			writeJSON(w, http.StatusCreated, map[string]int64{"id": id})
			return
		}
	}
	writeError(w, e)
}

// findFolder reads the {folderId} path value; call with the lock held.
// Brevo answers an unknown folder with 404 "Folder ID not found" (getFolder
// and getFolderLists declare it).
func (s *Server) findFolder(r *http.Request) (*folder, *apiError) {
	id, err := strconv.ParseInt(r.PathValue("folderId"), 10, 64)
	if err != nil || id <= 0 {
		return nil, badRequest("folderId should be a positive integer")
	}
	f, ok := s.cat.folder(id)
	if !ok {
		return nil, notFound("Folder ID not found")
	}
	return f, nil
}

// getFolder serves GET /contacts/folders/{folderId}: the folder with its
// counts, a contact counted once however many of its lists hold it.
func (s *Server) getFolder(w http.ResponseWriter, r *http.Request) {
	s.lock()
	f, e := s.findFolder(r)
	var v folderView
	if e == nil {
		_, counts := s.counts()
		v = folderView{ID: f.id, Name: f.name, subscribers: *counts[f.id]}
	}
	s.mu.Unlock()
	if e != nil {
		writeError(w, e)
		return
	}
	writeJSON(w, http.StatusOK, v)
}

// getFolderLists serves GET /contacts/folders/{folderId}/lists: the
// folder's lists, paged like GET /contacts/lists (newest first by default);
// count is the folder's number of lists.
func (s *Server) getFolderLists(w http.ResponseWriter, r *http.Request) {
	limit, offset, asc, e := pageQuery(r, 10, 50)
	if e != nil {
		writeError(w, e)
		return
	}
	s.lock()
	f, e := s.findFolder(r)
	out := []listView{}
	n := 0
	if e == nil {
		var in []*list
		for i := range s.cat.lists {
			if s.cat.lists[i].folderID == f.id {
				in = append(in, &s.cat.lists[i])
			}
		}
		counts, _ := s.counts()
		for _, i := range page(len(in), limit, offset, asc) {
			out = append(out, s.listView(in[i], counts))
		}
		n = len(in)
	}
	s.mu.Unlock()
	if e != nil {
		writeError(w, e)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"lists": out, "count": n})
}
