-- Why a done inbox row holds no incident (a recovery that no open incident holds).
ALTER TABLE inbox ADD COLUMN outcome TEXT;
