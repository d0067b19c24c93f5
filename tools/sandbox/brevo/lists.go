package brevo

import (
	"slices"
	"time"
)

// A fresh Brevo account comes with one folder and one list in it. Brevo numbers
// them 1 and 2 (the list id 2 is what new accounts see in the UI and what
// Brevo's own examples import into); the sandbox does the same, and numbers
// later folders and lists from there, each kind with its own sequence.
const (
	firstFolderID   = 1
	firstFolderName = "Your first folder"
	firstListID     = 2
	firstListName   = "Your first list"
)

type folder struct {
	id   int64
	name string
}

type list struct {
	id       int32
	name     string
	folderID int64
	created  int64 // unix milliseconds
}

// catalog holds the account's folders and lists in creation order.
type catalog struct {
	folders    []folder
	lists      []list
	lastFolder int64
	lastList   int32
}

func newCatalog(now time.Time) catalog {
	return catalog{
		folders:    []folder{{id: firstFolderID, name: firstFolderName}},
		lists:      []list{{id: firstListID, name: firstListName, folderID: firstFolderID, created: now.UnixMilli()}},
		lastFolder: firstFolderID,
		lastList:   firstListID,
	}
}

func (c *catalog) folder(id int64) (*folder, bool) {
	for i := range c.folders {
		if c.folders[i].id == id {
			return &c.folders[i], true
		}
	}
	return nil, false
}

func (c *catalog) list(id int64) (*list, bool) {
	for i := range c.lists {
		if int64(c.lists[i].id) == id {
			return &c.lists[i], true
		}
	}
	return nil, false
}

func (c *catalog) addFolder(name string) int64 {
	c.lastFolder++
	c.folders = append(c.folders, folder{id: c.lastFolder, name: name})
	return c.lastFolder
}

func (c *catalog) addList(name string, folderID int64, now time.Time) int32 {
	c.lastList++
	c.lists = append(c.lists, list{id: c.lastList, name: name, folderID: folderID, created: now.UnixMilli()})
	return c.lastList
}

// checkLists refuses list ids the account does not have. Brevo declares only a
// 400 on the contact-writing endpoints, so that is what an unknown list gets.
func (c *catalog) checkLists(field string, ids []int32) *apiError {
	for _, id := range ids {
		if _, ok := c.list(int64(id)); !ok {
			return badRequest("%s: list ID %d does not exist", field, id)
		}
	}
	return nil
}

// subscribers are a list's or folder's counts as Brevo reports them:
// uniqueSubscribers is every member, totalBlacklisted the members whose email
// is blacklisted, totalSubscribers the rest (Brevo's examples add up that way).
type subscribers struct {
	TotalBlacklisted  int64 `json:"totalBlacklisted"`
	TotalSubscribers  int64 `json:"totalSubscribers"`
	UniqueSubscribers int64 `json:"uniqueSubscribers"`
}

func (n *subscribers) add(blacklisted bool) {
	n.UniqueSubscribers++
	if blacklisted {
		n.TotalBlacklisted++
	} else {
		n.TotalSubscribers++
	}
}

// counts tallies every list and folder in one pass over the contacts; call with
// the lock held. A contact in two lists of one folder counts once for the folder.
func (s *Server) counts() (byList map[int32]*subscribers, byFolder map[int64]*subscribers) {
	byList = make(map[int32]*subscribers, len(s.cat.lists))
	folderOf := make(map[int32]int64, len(s.cat.lists))
	for _, l := range s.cat.lists {
		byList[l.id] = &subscribers{}
		folderOf[l.id] = l.folderID
	}
	byFolder = make(map[int64]*subscribers, len(s.cat.folders))
	for _, f := range s.cat.folders {
		byFolder[f.id] = &subscribers{}
	}
	var seen []int64
	for i := range s.st.contacts {
		ct := &s.st.contacts[i]
		if len(ct.lists) == 0 {
			continue
		}
		bl := ct.flags&flagEmailBlacklisted != 0
		seen = seen[:0]
		for _, l := range ct.lists {
			n, ok := byList[l]
			if !ok {
				continue
			}
			n.add(bl)
			if f := folderOf[l]; !slices.Contains(seen, f) {
				seen = append(seen, f)
				byFolder[f].add(bl)
			}
		}
	}
	return byList, byFolder
}

// ListState is one list in the admin state.
type ListState struct {
	ID       int64  `json:"id"`
	Name     string `json:"name"`
	FolderID int64  `json:"folderId"`
	Members  int64  `json:"members"`
}

// FolderState is one folder in the admin state.
type FolderState struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
}

// listStates reports the lists with their member counts; call with the lock held.
func (s *Server) listStates() ([]FolderState, []ListState) {
	byList, _ := s.counts()
	folders := make([]FolderState, len(s.cat.folders))
	for i, f := range s.cat.folders {
		folders[i] = FolderState{ID: f.id, Name: f.name}
	}
	lists := make([]ListState, len(s.cat.lists))
	for i, l := range s.cat.lists {
		lists[i] = ListState{ID: int64(l.id), Name: l.name, FolderID: l.folderID, Members: byList[l.id].UniqueSubscribers}
	}
	return folders, lists
}
